import DataFetch
import FakeHubServer
import Foundation
import Hub
import Images
import Testing

/// `svco data fetch mvc-sources` and `svco data fetch benchmarks` end to end on small stand-ins of
/// the real downloads (Fixtures/make_sources.py) served by a loopback Hub and mirror.
@Suite(.serialized) struct FetchEndToEndTests {
    static func environment(_ server: FakeHubServer, cache: String) -> [String: String] {
        ["HF_ENDPOINT": server.endpoint, "HF_HUB_CACHE": cache, "SVCO_SOURCE_MIRROR": server.cdnBase, "SVCO_DISABLE_CUDA": "1"]
    }

    @Test func mvcSourcesAsThePrepareScriptLeavesThem() async throws {
        let server = try FetchFixtures.server()
        defer { server.shutdown() }
        let out = try FetchFixtures.temporaryFolder("mvc")
        let transport = HTTPTransport(readTimeout: 60)
        let context = FetchContext(output: out, environment: HubEnvironment(endpoint: server.endpoint, cacheDirectory: out + "/.hf"),
                                   mirror: server.cdnBase, transport: transport, backoff: Backoff(maxAttempts: 3, baseDelay: 0.05),
                                   showProgress: false, log: { _ in })
        let mvcJSON = try FetchFixtures.bytes("web/raw.githubusercontent.com/s-vco/s-vco/\(MVCSources.referenceCommit)/data/mvc.json")
        // A dropped connection on the big archive is resumed.
        server.dropConnection(path: "/downloads.cs.stanford.edu/nlp/data/gqa/images.zip", afterBytes: 100)
        try await MVCSources.fetch(context, mvcJSONBlobID: SHA1.gitBlobID(mvcJSON))
        await transport.shutdown()

        let fm = FileManager.default
        #expect(fm.contents(atPath: out + "/mvc.json").map(Array.init) == mvcJSON)
        #expect(fm.fileExists(atPath: out + "/flickr30k/flickr30k-images.zip"))
        #expect(fm.fileExists(atPath: out + "/flickr30k/flickr_annotations_30k.csv"))
        #expect(fm.fileExists(atPath: out + "/flickr30k/flickr30k-images/1000523639.jpg"))
        let train = out + "/Flickr30k-Counterfactuals/train_data"
        for (task, ids) in [("counting", ["1000092795", "1000523639"]), ("up_down", ["1000092795"]),
                            ("left_right", ["10002456", "1000268201", "1000344755", "1000366164"])] {
            for id in ids {
                let pos = fm.contents(atPath: "\(train)/\(task)/pos/\(id).jpg")
                #expect(pos != nil && pos == fm.contents(atPath: "\(out)/flickr30k/flickr30k-images/\(id).jpg"), "\(task)/pos/\(id)")
            }
        }
        for id in ["10002456", "1000268201", "1000344755", "1000366164"] {
            #expect(fm.contents(atPath: "\(train)/left_right/neg/\(id).jpg").map(Array.init) == (try FetchFixtures.bytes("expected/left_right_neg/\(id).jpg")))
        }
        #expect(fm.fileExists(atPath: out + "/finecops-ref/images/2368312.jpg"))
        #expect(fm.fileExists(atPath: out + "/finecops-ref/neg_images/2354786_neg_0.jpg"))
        #expect(fm.fileExists(atPath: out + "/finecops-ref/finecops-ref_train.json"))
        let gqa = server.requests.filter { $0.uri.hasSuffix("/gqa/images.zip") }
        // The dropped connection was retried (with Range from the bytes kept; HubTests checks the offsets).
        #expect(gqa.count >= 2 && gqa.first?.range == nil, "\(gqa.map { $0.range ?? "-" })")

        // Every image of the MVC file exists and decodes (svco data check).
        let check = try SVCOBinary.run(["data", "check", "--model", FetchFixtures.root.path + "/demo/tiny-llava", "--data", out + "/mvc.json",
                                        "--image-root", out], environment: Self.environment(server, cache: out + "/.hf"))
        #expect(check.status == 0 && check.output.contains("unreadable images: 0"), "\(check.output)")

        // A rerun verifies and skips: no file is downloaded again.
        server.clearRequests()
        let again = HTTPTransport(readTimeout: 60)
        try await MVCSources.fetch(FetchContext(output: out, environment: context.environment, mirror: server.cdnBase, transport: again,
                                                showProgress: false, log: { _ in }), mvcJSONBlobID: SHA1.gitBlobID(mvcJSON))
        await again.shutdown()
        #expect(!server.requests.contains { $0.method == "GET" && $0.server == "cdn" }, "\(server.requests.map(\.uri))")
    }

    @Test func mvcSourcesRefusesAnMVCFileThatIsNotTheReleasedOne() throws {
        let server = try FetchFixtures.server()
        defer { server.shutdown() }
        let out = try FetchFixtures.temporaryFolder("mvc-cli")
        let r = try SVCOBinary.run(["data", "fetch", "mvc-sources", "--out", out, "--quiet"], environment: Self.environment(server, cache: out + "/.hf"))
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("\(out)/mvc.json: git blob id is") && r.output.contains("abeb08e97778a45675363bc3099edf35074bf6e8"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: out + "/mvc.json"))
        #expect(!FileManager.default.fileExists(atPath: out + "/mvc.json.incomplete"))
    }

    @Test func benchmarksLaidOutForEvalThroughTheCLI() throws {
        let server = try FetchFixtures.server()
        defer { server.shutdown() }
        let out = try FetchFixtures.temporaryFolder("bench")
        let env = Self.environment(server, cache: out + "/.hf")
        let r = try SVCOBinary.run(["data", "fetch", "benchmarks", "--out", out, "--quiet"], environment: env)
        #expect(r.status == 0, "\(r.output)")
        let fm = FileManager.default
        let expectFiles = [
            "mmhal/mmhal-bench_answer_template.json", "mmhal/images/df62a56fdc1bb12b.jpg",
            "mmvet/mm-vet.json", "mmvet/images/v1_0.png", "mmvet/images/v1_1.jpg",
            "llavabench/questions.jsonl", "llavabench/answers_gpt4.jsonl", "llavabench/context.jsonl",
            "llavabench/llavabench_gpt_review_rule.json", "llavabench/images/001.jpg",
            "cvbench/cvbench_test.jsonl", "cvbench/img/2D/count/ade20k_10.png",
            "mmvp/Questions.csv", "mmvp/MMVP Images/1.jpg",
            "realworldqa/llava_test_realworldqa.jsonl", "realworldqa/1.webp", "realworldqa/6.webp",
            "textvqa/llava_textvqa_val_v051_ocr.jsonl", "textvqa/TextVQA_0.5.1_val.json", "textvqa/train_images/003a8ae2ef43b901.jpg",
            "scienceqa/llava_test_CQM-A.json", "scienceqa/images/test/5/image.png",
        ]
        for f in expectFiles { #expect(fm.fileExists(atPath: out + "/" + f), "\(f)") }
        #expect(try fm.contentsOfDirectory(atPath: out + "/mmhal/images").count == 96)
        #expect(!fm.fileExists(atPath: out + "/mmvet/mm-vet"))          // only the images are kept, as the reference moves them
        #expect(!fm.fileExists(atPath: out + "/textvqa/__MACOSX"))
        #expect(!fm.fileExists(atPath: out + "/cvbench/test.parquet"))  // only img/
        #expect(!fm.fileExists(atPath: out + "/textvqa/.downloads"))    // archives deleted after unpacking
        for n in 1...6 {
            #expect(fm.contents(atPath: out + "/realworldqa/\(n).webp").map(Array.init) == (try FetchFixtures.bytes("expected/realworldqa/\(n).webp")))
        }
        // The question files are the reference's, checked by sha256.
        #expect(fm.contents(atPath: out + "/mmvp/Questions.csv") == fm.contents(atPath: FetchFixtures.shared + "/MMVP/Questions.csv"))

        // Idempotent: a rerun fetches nothing from the mirror or the CDN.
        server.clearRequests()
        let again = try SVCOBinary.run(["data", "fetch", "benchmarks", "--out", out, "--quiet"], environment: env)
        #expect(again.status == 0, "\(again.output)")
        #expect(!server.requests.contains { $0.server == "cdn" }, "\(server.requests.filter { $0.server == "cdn" }.map(\.uri))")
    }

    @Test func aMissingSourceFileIsNamedWithItsURL() throws {
        let server = try FetchFixtures.server()
        defer { server.shutdown() }
        server.setFile("/scienceqa.s3.us-west-1.amazonaws.com/images/test.zip", [])
        server.fail(path: "/scienceqa.s3.us-west-1.amazonaws.com/images/test.zip", status: 404, times: 100)
        let out = try FetchFixtures.temporaryFolder("missing")
        let r = try SVCOBinary.run(["data", "fetch", "benchmarks", "--out", out, "--benchmark", "scienceqa", "--quiet"],
                                   environment: Self.environment(server, cache: out + "/.hf"))
        #expect(r.status == 1)
        #expect(r.output.contains("not found (HTTP 404): \(server.cdnBase)/scienceqa.s3.us-west-1.amazonaws.com/images/test.zip"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: out + "/scienceqa/images"))
    }
}
