import FakeHubServer
import Foundation
import Hub
import Testing

/// The cache svco writes is read by huggingface_hub 0.26.2 (the reference's pin) offline, and the
/// cache huggingface_hub writes from the same loopback Hub is read by svco offline and has the same
/// layout, byte for byte and link for link.
@Suite(.serialized) struct HuggingFaceHubInteropTests {
    /// Every blob, ref and snapshot entry under a cache folder: path → file content hash or link target.
    static func layout(_ cache: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for item in try FileManager.default.subpathsOfDirectory(atPath: cache) {
            let parts = item.split(separator: "/")
            guard parts.count >= 3, ["blobs", "refs", "snapshots"].contains(parts[1]) else { continue }
            let full = cache + "/" + item
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
                out[item] = "-> " + target
            } else if let data = FileManager.default.contents(atPath: full) {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue { out[item] = SHA256.hash(Array(data)) }
            }
        }
        return out
    }

    @Test func huggingFaceHubReadsWhatSvcoWrites() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        let cache = try Support.temporaryFolder("interop-a")
        let env = Support.environment(server, cache: cache)
        let model = try await Support.snapshot(env, SnapshotRequest(repo: try RepoID("svco-test/tiny-model")))
        _ = try await Support.snapshot(env, SnapshotRequest(repo: try RepoID("svco-test/tiny-dataset"), type: .dataset))
        let script = """
            import hashlib, json, sys
            from huggingface_hub import hf_hub_download, snapshot_download
            cache = sys.argv[1]
            m = hf_hub_download("svco-test/tiny-model", "model.safetensors", cache_dir=cache)
            n = hf_hub_download("svco-test/tiny-model", "sub/folder/notes.txt", cache_dir=cache)
            s = snapshot_download("svco-test/tiny-model", cache_dir=cache)
            d = hf_hub_download("svco-test/tiny-dataset", "images/002.jpg", repo_type="dataset", cache_dir=cache)
            sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
            print(json.dumps({"model": m, "notes": open(n).read(), "snapshot": s, "model_sha": sha(m), "dataset_sha": sha(d)}))
            """
        let out = try PythonPeers.python(script, [cache], environment: ["HF_HUB_OFFLINE": "1"])
        let r = try JSONDecoder().decode([String: String].self, from: Data(out.utf8))
        #expect(r["snapshot"] == model)
        #expect(r["model"] == model + "/model.safetensors")
        #expect(r["notes"] == "nested file\n")
        #expect(r["model_sha"] == SHA256.hash(Support.pattern(300_000)))
        #expect(r["dataset_sha"] == SHA256.hash(Support.pattern(6000, salt: 3)))
    }

    @Test func svcoReadsWhatHuggingFaceHubWritesAndTheLayoutsAgree() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        let pythonCache = try Support.temporaryFolder("interop-py")
        let script = """
            import json, sys
            from huggingface_hub import snapshot_download
            m = snapshot_download("svco-test/tiny-model")
            d = snapshot_download("svco-test/tiny-dataset", repo_type="dataset", allow_patterns=["images/*"])
            print(json.dumps({"model": m, "dataset": d}))
            """
        let out = try PythonPeers.python(script, [], environment: ["HF_ENDPOINT": server.endpoint, "HF_HUB_CACHE": pythonCache,
                                                                   "HF_HUB_DISABLE_TELEMETRY": "1"])
        let r = try JSONDecoder().decode([String: String].self, from: Data(out.utf8))
        // svco, offline, on huggingface_hub's cache.
        let offline = Support.environment(server, cache: pythonCache, offline: true)
        server.clearRequests()
        let model = try await ModelSource.resolve("svco-test/tiny-model", environment: offline)
        #expect(model == r["model"])
        #expect(Support.read(model + "/model.safetensors") == Support.pattern(300_000))
        let dataset = try await Support.snapshot(offline, SnapshotRequest(repo: try RepoID("svco-test/tiny-dataset"), type: .dataset))
        #expect(dataset == r["dataset"])
        #expect(Support.read(dataset + "/images/001.jpg") == Support.pattern(5000, salt: 2))
        #expect(server.requests.isEmpty)

        // svco's own download of the same repositories lays out the same files and links.
        let svcoCache = try Support.temporaryFolder("interop-svco")
        let online = Support.environment(server, cache: svcoCache)
        _ = try await Support.snapshot(online, SnapshotRequest(repo: try RepoID("svco-test/tiny-model")))
        _ = try await Support.snapshot(online, SnapshotRequest(repo: try RepoID("svco-test/tiny-dataset"), type: .dataset,
                                                               filter: PathFilter(include: ["images/*"])))
        let theirs = try Self.layout(pythonCache), ours = try Self.layout(svcoCache)
        #expect(theirs.count >= 12)
        #expect(ours == theirs, "\(ours.keys.sorted()) vs \(theirs.keys.sorted())")
    }
}
