import FakeHubServer
import Foundation
import Hub

/// The fixture sources of Fixtures/make_sources.py, made once per test process, and a fake Hub +
/// mirror serving them.
enum FetchFixtures {
    static let root = PythonPeers.repoRoot
    static let shared = root.deletingLastPathComponent().appendingPathComponent("shared/benchmarks").path

    /// The folder holding hub/, web/, expected/, bad/ (built on first use).
    static let folder: Result<String, Error> = Result {
        let dir = NSTemporaryDirectory() + "svco-fetch-fixtures-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        let script = try String(contentsOfFile: root.path + "/Tests/DataFetchTests/Fixtures/make_sources.py", encoding: .utf8)
        _ = try PythonPeers.python(script, [dir, shared], environment: [:])
        return dir
    }

    static func path(_ relative: String) throws -> String { try folder.get() + "/" + relative }
    static func bytes(_ relative: String) throws -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: try path(relative)) else { throw PythonPeers.PeerError(message: "missing fixture \(relative)") }
        return Array(d)
    }

    /// A fake Hub with the fixture repositories (binary files as LFS) and a mirror of the web files.
    static func server() throws -> FakeHubServer {
        let base = try folder.get()
        var repos: [FakeRepo] = []
        var files: [String: [UInt8]] = [:]
        let fm = FileManager.default
        for item in try fm.subpathsOfDirectory(atPath: base + "/hub") {
            let parts = item.split(separator: "/", maxSplits: 3).map(String.init)
            var isDir: ObjCBool = false
            guard parts.count == 4, fm.fileExists(atPath: base + "/hub/" + item, isDirectory: &isDir), !isDir.boolValue else { continue }
            let (type, id, path) = (parts[0], parts[1] + "/" + parts[2], parts[3])
            let content = Array(fm.contents(atPath: base + "/hub/" + item) ?? Data())
            let lfs = ![".md", ".csv", ".json", ".jsonl"].contains { path.hasSuffix($0) }
            if let i = repos.firstIndex(where: { $0.type == type && $0.id == id }) {
                repos[i].files[path] = FakeFile(content, lfs: lfs)
            } else {
                let commit = SHA1.gitBlobID(Array(id.utf8))
                repos.append(FakeRepo(type: type, id: id, commit: commit, files: [path: FakeFile(content, lfs: lfs)]))
            }
        }
        for item in try fm.subpathsOfDirectory(atPath: base + "/web") {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: base + "/web/" + item, isDirectory: &isDir), !isDir.boolValue {
                files["/" + item] = Array(fm.contents(atPath: base + "/web/" + item) ?? Data())
            }
        }
        return try FakeHubServer(repos: repos, files: files)
    }

    static func temporaryFolder(_ tag: String) throws -> String {
        let dir = NSTemporaryDirectory() + "svco-fetch-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
