import FakeHubServer
import Foundation
import Hub
import Testing

/// `svco download` and repository ids in place of model folders, through the executable.
@Suite struct DownloadCommandTests {
    @Test func downloadPrintsTheSnapshotFolderLast() throws {
        let server = try FakeHubServer(repos: Support.repos(token: "hf_cli_secret"))
        defer { server.shutdown() }
        let home = try Support.temporaryFolder("cli")
        let env = ["HF_ENDPOINT": server.endpoint, "HF_HOME": home + "/hf", "HF_TOKEN": "hf_cli_secret", "SVCO_DISABLE_CUDA": "1"]
        let r = try SVCOBinary.run(["download", "svco-test/tiny-dataset", "--repo-type", "dataset", "--include", "images/*"], environment: env)
        #expect(r.status == 0, "\(r.output)")
        let expected = home + "/hf/hub/datasets--svco-test--tiny-dataset/snapshots/" + Support.datasetCommit
        #expect(r.stdout.split(separator: "\n").last.map(String.init) == expected)
        #expect(FileManager.default.fileExists(atPath: expected + "/images/002.jpg"))
        #expect(!FileManager.default.fileExists(atPath: expected + "/README.md"))
        #expect(!r.output.contains("hf_cli_secret"))

        // Without the token: 401 with the hint; the token never appears.
        var anonymous = env
        anonymous["HF_TOKEN"] = nil
        let denied = try SVCOBinary.run(["download", "svco-test/tiny-model", "--quiet"], environment: anonymous)
        #expect(denied.status == 1 && denied.output.contains("HTTP 401") && denied.output.contains("set HF_TOKEN"), "\(denied.output)")

        // Offline with nothing cached: a clear error naming the repository.
        var offline = env
        offline["HF_HUB_OFFLINE"] = "1"
        let missing = try SVCOBinary.run(["download", "svco-test/tiny-model", "--quiet"], environment: offline)
        #expect(missing.status == 1 && missing.output.contains("HF_HUB_OFFLINE") && missing.output.contains("svco-test/tiny-model"), "\(missing.output)")
        let bad = try SVCOBinary.run(["download", "not/a/repo"], environment: env)
        #expect(bad.status == 64 && bad.output.contains("org/name"), "\(bad.output)")
    }

    @Test func repoIDsWorkWhereModelFoldersDo() throws {
        // The demo model served as a Hub repository; `svco inspect ORG/NAME` downloads and reads it.
        let demo = PythonPeers.repoRoot.path + "/demo/tiny-llava"
        var files: [String: FakeFile] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: demo) where !name.hasPrefix(".") && !name.hasSuffix(".md") {
            guard let data = FileManager.default.contents(atPath: demo + "/" + name) else { continue }
            files[name] = FakeFile(Array(data), lfs: name.hasSuffix(".safetensors"))
        }
        let server = try FakeHubServer(repos: [FakeRepo(id: "svco-test/demo-llava", commit: Support.modelCommit, files: files)])
        defer { server.shutdown() }
        let home = try Support.temporaryFolder("inspect")
        let env = ["HF_ENDPOINT": server.endpoint, "HF_HUB_CACHE": home + "/cache", "SVCO_DISABLE_CUDA": "1"]
        let local = try SVCOBinary.run(["inspect", demo, "--json"], environment: env)
        let remote = try SVCOBinary.run(["inspect", "svco-test/demo-llava", "--json"], environment: env)
        #expect(remote.status == 0 && local.status == 0, "\(remote.output)")
        #expect(remote.stdout == local.stdout)
        var offline = env
        offline["HF_HUB_OFFLINE"] = "1"
        server.clearRequests()
        let cached = try SVCOBinary.run(["inspect", "svco-test/demo-llava", "--json"], environment: offline)
        #expect(cached.stdout == local.stdout && server.requests.isEmpty)
        let unknown = try SVCOBinary.run(["inspect", "svco-test/unknown", "--json"], environment: env)
        #expect(unknown.status == 1 && unknown.output.contains("'svco-test/unknown' is no folder") && unknown.output.contains("HTTP 404"), "\(unknown.output)")
    }
}
