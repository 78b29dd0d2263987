import FakeHubServer
import Foundation
@testable import Hub
import Testing

/// `svco download`'s library against a loopback Hub that sends the Hub's real headers.
@Suite struct SnapshotDownloadTests {
    @Test func modelSnapshotHasHuggingFaceCacheLayout() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        let cache = try Support.temporaryFolder("layout")
        let env = Support.environment(server, cache: cache)
        let folder = try await Support.snapshot(env, SnapshotRequest(repo: try RepoID("svco-test/tiny-model")))
        let repoFolder = cache + "/models--svco-test--tiny-model"
        #expect(folder == repoFolder + "/snapshots/" + Support.modelCommit)
        #expect(Support.read(repoFolder + "/refs/main") == Array(Support.modelCommit.utf8))  // no newline
        let lfs = FakeFile(Support.pattern(300_000), lfs: true)
        let config = FakeFile(#"{"model_type": "llava"}"#)
        // Blobs named by ETag: sha256 for LFS, git blob id for git files; snapshot entries are relative links.
        #expect(Support.read(repoFolder + "/blobs/" + lfs.sha256) == lfs.content)
        #expect(Support.readlink(folder + "/model.safetensors") == "../../blobs/" + lfs.sha256)
        #expect(Support.readlink(folder + "/config.json") == "../../blobs/" + config.gitBlobID)
        #expect(Support.readlink(folder + "/sub/folder/notes.txt") == "../../../../blobs/" + FakeFile("nested file\n").gitBlobID)
        #expect(Support.read(folder + "/sub/folder/notes.txt") == Array("nested file\n".utf8))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: repoFolder + "/blobs").filter { $0.hasSuffix(".incomplete") }
        #expect(leftovers.isEmpty)

        // A second run asks the API once and downloads nothing.
        server.clearRequests()
        _ = try await Support.snapshot(env, SnapshotRequest(repo: try RepoID("svco-test/tiny-model")))
        #expect(server.requests.count == 1 && server.requests[0].uri.hasPrefix("/api/models/svco-test/tiny-model/revision/main"))
    }

    @Test func includeExcludeAndDatasets() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        let cache = try Support.temporaryFolder("filter")
        let env = Support.environment(server, cache: cache)
        let folder = try await Support.snapshot(env, SnapshotRequest(
            repo: try RepoID("svco-test/tiny-dataset"), type: .dataset, filter: PathFilter(include: ["images/", "*.md"], exclude: ["*/002.jpg"])))
        #expect(folder.hasPrefix(cache + "/datasets--svco-test--tiny-dataset/snapshots/" + Support.datasetCommit))
        #expect(FileManager.default.fileExists(atPath: folder + "/images/001.jpg"))
        #expect(FileManager.default.fileExists(atPath: folder + "/README.md"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/images/002.jpg"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/data/test-00000-of-00001.parquet"))
        #expect(server.requests.contains { $0.uri.hasPrefix("/api/datasets/svco-test/tiny-dataset/revision/main") })
        #expect(server.requests.contains { $0.method == "HEAD" && $0.uri == "/datasets/svco-test/tiny-dataset/resolve/\(Support.datasetCommit)/images/001.jpg" })
    }

    @Test func resumesWithRangeAfterADroppedConnection() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        server.dropConnection(path: "model.safetensors", afterBytes: 120_000)
        let cache = try Support.temporaryFolder("resume")
        let folder = try await Support.snapshot(Support.environment(server, cache: cache),
                                                SnapshotRequest(repo: try RepoID("svco-test/tiny-model"), filter: PathFilter(include: ["*.safetensors"])))
        #expect(Support.read(folder + "/model.safetensors") == Support.pattern(300_000))
        let gets = server.requests.filter { $0.server == "cdn" && $0.method == "GET" }
        // Later requests ask for the rest from where the kept bytes end (how many of the 120,000 sent
        // bytes the client had consumed when it saw the close varies; a starved run may time out more).
        let starts = gets.dropFirst().map { g in g.range.flatMap { r in r.hasPrefix("bytes=") && r.hasSuffix("-") ? Int(r.dropFirst(6).dropLast()) : nil } ?? -1 }
        #expect(gets.count >= 2 && gets.first?.range == nil, "\(gets.map { $0.range ?? "-" })")
        #expect(starts.allSatisfy { $0 > 0 } && starts.first.map { $0 <= 120_000 } == true && starts == starts.sorted(), "\(gets.map { $0.range ?? "-" })")
    }

    @Test func aCorruptedByteIsRefusedAndNothingIsKept() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        server.corrupt(path: "model.safetensors")
        let cache = try Support.temporaryFolder("corrupt")
        let env = Support.environment(server, cache: cache)
        let lfs = FakeFile(Support.pattern(300_000), lfs: true)
        await #expect {
            try await Support.snapshot(env, SnapshotRequest(repo: try RepoID("svco-test/tiny-model"), filter: PathFilter(include: ["model.safetensors"])))
        } throws: { error in
            guard case let HubError.checksumMismatch(file, algorithm, expected, _) = error else { return false }
            return file == "svco-test/tiny-model/model.safetensors" && algorithm == "sha256" && expected == lfs.sha256
        }
        let blobs = cache + "/models--svco-test--tiny-model/blobs"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? []).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: cache + "/models--svco-test--tiny-model/snapshots/\(Support.modelCommit)/model.safetensors"))

        // A git (non-LFS) file is checked against its git blob id.
        server.corrupt(path: "config.json")
        await #expect {
            try await Support.snapshot(env, SnapshotRequest(repo: try RepoID("svco-test/tiny-model"), filter: PathFilter(include: ["config.json"])))
        } throws: { error in
            guard case let HubError.checksumMismatch(_, algorithm, _, _) = error else { return false }
            return algorithm == "git blob id"
        }
    }

    @Test func notFoundAndUnauthorizedAreNamed() async throws {
        let server = try FakeHubServer(repos: Support.repos(token: "hf_secret"))
        defer { server.shutdown() }
        let cache = try Support.temporaryFolder("errors")
        let anonymous = Support.environment(server, cache: cache)
        await #expect {
            try await Support.snapshot(anonymous, SnapshotRequest(repo: try RepoID("svco-test/no-such-model")))
        } throws: { error in
            let text = "\(error)"
            return text.contains("HTTP 404") && text.contains("\(server.endpoint)/api/models/svco-test/no-such-model/revision/main")
        }
        await #expect {
            try await Support.snapshot(anonymous, SnapshotRequest(repo: try RepoID("svco-test/tiny-model")))
        } throws: { error in
            let text = "\(error)"
            return text.contains("HTTP 401") && text.contains("HF_TOKEN") && text.contains("/api/models/svco-test/tiny-model")
        }
        let wrong = Support.environment(server, cache: cache, token: "hf_wrong")
        await #expect {
            try await Support.snapshot(wrong, SnapshotRequest(repo: try RepoID("svco-test/tiny-model")))
        } throws: { error in
            "\(error)".contains("HTTP 403") && !"\(error)".contains("hf_wrong")
        }
        // A missing file at a good revision: 404 naming the file's URL.
        let client = HubClient(environment: Support.environment(server, cache: cache, token: "hf_secret"), transport: HTTPTransport())
        await #expect {
            try await client.fileMetadata(repo: try RepoID("svco-test/tiny-model"), type: .model, revision: "main", path: "missing.json")
        } throws: { error in
            "\(error)".contains("missing.json in model repository svco-test/tiny-model") && "\(error)".contains("/resolve/main/missing.json")
        }
        await client.transport.shutdown()
    }

    @Test func tokenGoesToTheHubButNeverToTheCDN() async throws {
        let server = try FakeHubServer(repos: Support.repos(token: "hf_secret"))
        defer { server.shutdown() }
        let cache = try Support.temporaryFolder("token")
        let folder = try await Support.snapshot(Support.environment(server, cache: cache, token: "hf_secret"),
                                                SnapshotRequest(repo: try RepoID("svco-test/tiny-model")))
        #expect(Support.read(folder + "/model.safetensors") == Support.pattern(300_000))
        let hub = server.requests.filter { $0.server == "hub" }
        let cdn = server.requests.filter { $0.server == "cdn" }
        #expect(!hub.isEmpty && hub.allSatisfy { $0.authorization == "Bearer hf_secret" })
        #expect(cdn.count == 2 && cdn.allSatisfy { $0.authorization == nil })
    }

    @Test func retriesServerErrorsWithBackoff() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        server.fail(path: "config.json", status: 503, times: 2)
        let cache = try Support.temporaryFolder("retry")
        let folder = try await Support.snapshot(Support.environment(server, cache: cache),
                                                SnapshotRequest(repo: try RepoID("svco-test/tiny-model"), filter: PathFilter(include: ["config.json"])))
        #expect(Support.read(folder + "/config.json") == Array(#"{"model_type": "llava"}"#.utf8))
        #expect(server.requests.filter { $0.uri.hasSuffix("/config.json") }.count == 4)  // 2 failed HEADs, 1 HEAD, 1 GET
    }

    @Test func offlineModeUsesOnlyTheCache() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        let cache = try Support.temporaryFolder("offline")
        let online = try await Support.snapshot(Support.environment(server, cache: cache), SnapshotRequest(repo: try RepoID("svco-test/tiny-model")))
        server.clearRequests()
        let offline = Support.environment(server, cache: cache, offline: true)
        let again = try await Support.snapshot(offline, SnapshotRequest(repo: try RepoID("svco-test/tiny-model")))
        #expect(again == online && server.requests.isEmpty)
        let resolved = try await ModelSource.resolve("svco-test/tiny-model", environment: offline)
        #expect(resolved == online)
        await #expect {
            try await ModelSource.resolve("svco-test/other-model", environment: offline)
        } throws: { error in
            "\(error)".contains("HF_HUB_OFFLINE") && "\(error)".contains("svco-test/other-model") && "\(error)".contains("config.json")
        }
        #expect(server.requests.isEmpty)
    }

    @Test func repoIDsResolveThroughTheCacheAndFoldersStayFolders() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        let cache = try Support.temporaryFolder("resolve")
        let env = Support.environment(server, cache: cache)
        let folder = try await ModelSource.resolve("svco-test/tiny-model", environment: env)
        #expect(folder == cache + "/models--svco-test--tiny-model/snapshots/" + Support.modelCommit)
        #expect(FileManager.default.fileExists(atPath: folder + "/model.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/pytorch_model.bin"))  // weights svco does not read
        #expect(try await ModelSource.resolve(cache, environment: env) == cache)
        #expect(try await ModelSource.resolve("/no/such/folder", environment: env) == "/no/such/folder")
        #expect(try await ModelSource.resolve("svco-test/tiny-model@\(Support.modelCommit)", environment: env) == folder)
    }

    @Test func localDirectoryKeepsHuggingFaceMetadata() async throws {
        let server = try FakeHubServer(repos: Support.repos())
        defer { server.shutdown() }
        let local = try Support.temporaryFolder("local")
        let folder = try await Support.snapshot(Support.environment(server, cache: local + "/unused-cache"),
                                                SnapshotRequest(repo: try RepoID("svco-test/tiny-dataset"), type: .dataset, localDirectory: local + "/out"))
        #expect(Support.read(folder + "/images/002.jpg") == Support.pattern(6000, salt: 3))
        let meta = String(decoding: Support.read(folder + "/.cache/huggingface/download/images/002.jpg.metadata") ?? [], as: UTF8.self)
        let lines = meta.split(separator: "\n")
        #expect(lines.count == 3 && lines[0] == Support.datasetCommit && lines[1] == FakeFile(Support.pattern(6000, salt: 3)).sha256)
        server.clearRequests()
        _ = try await Support.snapshot(Support.environment(server, cache: local + "/unused-cache"),
                                       SnapshotRequest(repo: try RepoID("svco-test/tiny-dataset"), type: .dataset, localDirectory: local + "/out"))
        #expect(!server.requests.contains { $0.method == "GET" && $0.server == "cdn" })
    }

    @Test func aFullDiskIsNamedAndNothingTakesTheFinalName() async throws {
        let server = try FakeHubServer(files: ["/host/big.bin": Support.pattern(50_000)])
        defer { server.shutdown() }
        let out = try Support.temporaryFolder("full")
        let transport = HTTPTransport(readTimeout: 5)
        let downloader = FileDownloader(transport: transport, backoff: Backoff(maxAttempts: 2, baseDelay: 0.01))
        // Writes to /dev/full fail with ENOSPC, as on a full disk.
        await #expect {
            try await downloader.download(RemoteFile(url: server.cdnBase + "/host/big.bin", destination: out + "/big.bin", partial: "/dev/full"))
        } throws: { error in
            guard case let HubError.diskFull(path, _) = error else { return false }
            return path == out + "/big.bin" && "\(error)".contains("no space left on the disk holding \(out)/big.bin")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/big.bin"))
        // And a download larger than the free space is refused before it starts.
        await #expect {
            try await downloader.download(RemoteFile(url: server.cdnBase + "/host/big.bin", destination: out + "/huge.bin", expectedSize: Int64.max / 2))
        } throws: { error in
            if case HubError.diskFull = error { return true }
            return false
        }
        await transport.shutdown()
    }

    @Test func environmentVariablesAsHuggingFaceHub() throws {
        let home = try Support.temporaryFolder("env")
        var e = HubEnvironment.from(["HOME": home])
        #expect(e.cacheDirectory == home + "/.cache/huggingface/hub" && e.endpoint == "https://huggingface.co" && e.token == nil && !e.offline)
        e = HubEnvironment.from(["HOME": home, "HF_HOME": "/x/hf", "HF_ENDPOINT": "http://h:1/", "HF_HUB_OFFLINE": "yes"])
        #expect(e.cacheDirectory == "/x/hf/hub" && e.endpoint == "http://h:1" && e.offline)
        e = HubEnvironment.from(["HOME": home, "HF_HOME": "/x/hf", "HF_HUB_CACHE": "/y/cache", "HF_TOKEN": "hf_a", "HF_HUB_OFFLINE": "0"])
        #expect(e.cacheDirectory == "/y/cache" && e.token == "hf_a" && !e.offline)
        try FileManager.default.createDirectory(atPath: home + "/hf", withIntermediateDirectories: true)
        try "hf_saved\n".write(toFile: home + "/hf/token", atomically: true, encoding: .utf8)
        e = HubEnvironment.from(["HOME": home, "HF_HOME": home + "/hf", "XDG_CACHE_HOME": "/ignored"])
        #expect(e.token == "hf_saved")
        #expect(HubEnvironment.from(["HOME": home, "XDG_CACHE_HOME": "/xdg"]).cacheDirectory == "/xdg/huggingface/hub")
    }

    @Test func progressLineShowsRateAndETA() {
        let line = TransferProgress.line(label: "x", done: 512 << 20, total: 1 << 30, rate: Double(64 << 20), filesDone: 1, filesTotal: 3, width: 24)
        #expect(line == "x  [############............]  512.0 MiB / 1.0 GiB  64.0 MiB/s  ETA 0m08s  1/3 files")
    }

    @Test func repoIDValidation() {
        #expect((try? RepoID("llava-hf/llava-1.5-7b-hf")) != nil)
        #expect((try? RepoID("a/b/c")) == nil && (try? RepoID("a--b/c")) == nil && (try? RepoID("../x")) == nil && (try? RepoID("a/")) == nil)
    }
}
