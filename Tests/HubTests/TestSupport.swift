import FakeHubServer
import Foundation
import Hub

enum Support {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func temporaryFolder(_ tag: String) throws -> String {
        let dir = NSTemporaryDirectory() + "svco-hub-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Deterministic bytes: (i * 7 + 3) mod 256, as Fixtures/make_fixtures.py.
    static func pattern(_ n: Int, salt: Int = 0) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3 &+ salt) } }

    static let modelCommit = "0123456789abcdef0123456789abcdef01234567"
    static let datasetCommit = "89abcdef0123456789abcdef0123456789abcdef"

    /// A model repository with small git files and one LFS file of 300 kB, and a dataset repository.
    static func repos(token: String? = nil) -> [FakeRepo] {
        [
            FakeRepo(id: "svco-test/tiny-model", commit: modelCommit, files: [
                "config.json": FakeFile(#"{"model_type": "llava"}"#),
                "tokenizer_config.json": FakeFile(#"{"chat_template": "x"}"#),
                "model.safetensors": FakeFile(pattern(300_000), lfs: true),
                "pytorch_model.bin": FakeFile(pattern(1000, salt: 1), lfs: true),
                "sub/folder/notes.txt": FakeFile("nested file\n"),
            ], token: token),
            FakeRepo(type: "dataset", id: "svco-test/tiny-dataset", commit: datasetCommit, files: [
                "README.md": FakeFile("# data\n"),
                "images/001.jpg": FakeFile(pattern(5000, salt: 2), lfs: true),
                "images/002.jpg": FakeFile(pattern(6000, salt: 3), lfs: true),
                "data/test-00000-of-00001.parquet": FakeFile(pattern(7000, salt: 4), lfs: true),
            ], token: token),
        ]
    }

    static func environment(_ server: FakeHubServer, cache: String, token: String? = nil, offline: Bool = false) -> HubEnvironment {
        HubEnvironment(endpoint: server.endpoint, cacheDirectory: cache, token: token, offline: offline)
    }

    /// Downloads a snapshot with a quiet progress bar and a fast backoff.
    static func snapshot(_ environment: HubEnvironment, _ request: SnapshotRequest) async throws -> String {
        let transport = HTTPTransport(readTimeout: 60)
        let client = HubClient(environment: environment, transport: transport, backoff: Backoff(maxAttempts: 4, baseDelay: 0.05))
        let downloader = SnapshotDownloader(client: client, concurrency: 4, progress: TransferProgress(label: "test", enabled: false))
        do {
            let folder = try await downloader.download(request)
            await transport.shutdown()
            return folder
        } catch {
            await transport.shutdown()
            throw error
        }
    }

    static func read(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { Array($0) } }

    static func readlink(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }
}
