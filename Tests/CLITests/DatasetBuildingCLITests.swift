import FakeJudgeServer
import Foundation
import Testing

/// `svco data filter` and `svco data augment` end to end: the binary, real files, and for augment a
/// fake OpenAI-compatible server that answers well, badly, with 429s and with a refusal.
@Suite(.serialized) struct DatasetBuildingCLITests {
    static let key = "sk-augment-SECRET-\(UInt32.random(in: 0...UInt32.max))"

    static func svco(_ arguments: [String], key: String?) throws -> JudgeEndToEndTests.Output {
        try JudgeEndToEndTests.svco(arguments, key: key)
    }

    static func folder() throws -> String {
        let dir = NSTemporaryDirectory() + "svco-build-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    // MARK: filter

    @Test func filterKeepsSamplesAndSummarises() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rows: [(String, String, Double, Double)] = [
            ("counting", "CounterCurate", 0.9, 0.3), ("counting", "CounterCurate", 0.6, 0.3), ("counting", "CounterCurate", 0.8, 0.7),
            ("up_down", "CounterCurate", 0.75, 0.1), ("Order", "FineCops-Ref", 0.9, 0.1),
        ]
        let records = rows.enumerated().map { i, r in
            #"{"id": \#(i), "images": ["a\#(i).jpg", "b\#(i).jpg"], "category": "\#(r.0)", "source": "\#(r.1)", "siglip_similarity": \#(r.2), "dinov2_similarity": \#(r.3)}"#
        }
        try ("[" + records.joined(separator: ",") + "]").write(toFile: dir + "/scored.json", atomically: true, encoding: .utf8)
        let r = try Self.svco(["data", "filter", "--data", dir + "/scored.json", "--out", dir + "/kept.json"], key: nil)
        #expect(r.status == 0, "\(r.text)")
        let kept = try #require(try Self.json(dir + "/kept.json") as? [[String: Any]])
        #expect(kept.map { $0["id"] as? Int } == [0, 3])
        #expect(r.text.contains("category  input  order  siglip  dinov2  unsampled  kept"), "\(r.text)")
        #expect(r.text.contains("counting      3      0       1       1          0     1"), "\(r.text)")
        #expect(r.text.contains("Order         1      1       0       0          0     0"), "\(r.text)")
        #expect(r.text.contains("2 of 5 records → \(dir)/kept.json"))

        // Left-right style: no thresholds, 2 of 4 in proportion (counting 3 → 1.5, up_down 1 → 0.5;
        // the tie goes to the larger category).
        let lr = try Self.svco(["data", "filter", "--data", dir + "/scored.json", "--out", dir + "/lr.json", "--no-similarity-filter",
                                "--sample", "2", "--seed", "3"], key: nil)
        #expect(lr.status == 0, "\(lr.text)")
        let sampled = try #require(try Self.json(dir + "/lr.json") as? [[String: Any]])
        #expect(sampled.map { $0["category"] as? String } == ["counting", "counting"])

        for (args, message) in [
            (["--min-siglip", "nan"], "--min-siglip must be a finite number in [-1, 1]"),
            (["--sample", "0"], "--sample must be at least 1"),
            (["--sample", "9"], "--sample 9 asks for more records than the 2 left after filtering"),
            (["--max-dinov2=-2"], "--max-dinov2 must be a finite number in [-1, 1]"),
        ] {
            let bad = try Self.svco(["data", "filter", "--data", dir + "/scored.json", "--out", dir + "/bad.json"] + args, key: nil)
            #expect(bad.status != 0 && bad.text.contains(message), "\(bad.text)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/bad.json"))
        }
    }

    // MARK: augment

    /// Per record tag (R0…R4) how many requests of each kind the fake server has seen.
    final class Counts: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [String: Int] = [:]
        func next(_ key: String) -> Int {
            lock.lock()
            defer { lock.unlock() }
            seen[key, default: 0] += 1
            return seen[key] ?? 0
        }
    }

    static func reply(_ q: String, _ a1: String, _ a2: String) -> String {
        #"{"question": "\#(q)", "answer_1": "\#(a1)", "answer_2": "\#(a2)"}"#
    }

    /// R0 answers well; R1's first stage-1 reply is prose (re-asked); R2 always gives two equal
    /// answers (skipped after 3 replies); R3 is rate limited twice first; R4 is refused (HTTP 400)
    /// in the first run and answered in the second.
    static func respond(_ request: FakeRequest, counts: Counts, refuseR4: @escaping @Sendable () -> Bool) -> FakeResponse {
        let body = request.bodyText
        guard let tag = ["R0", "R1", "R2", "R3", "R4"].first(where: { body.contains($0) }) else {
            return FakeResponse(status: 400, body: #"{"error":{"message":"no tag"}}"#)
        }
        let stage2 = body.contains("You rewrite question-and-answer pairs")
        let reask = body.contains("That reply cannot be used")
        switch tag {
        case "R1" where !stage2 && !reask:
            return .chat("Sure! Here is the JSON you asked for: " + reply("R1 q", "a", "b"))
        case "R2":
            return .chat(reply("R2 how many?", "Two cats.", "two  cats"))
        case "R3" where !stage2 && counts.next("R3") <= 2:
            return FakeResponse(status: 429, body: #"{"error":{"message":"slow down"}}"#, headers: [("Retry-After", "0")])
        case "R4" where refuseR4():
            return FakeResponse(status: 400, body: #"{"error":{"message":"content policy"}}"#)
        default:
            break
        }
        if stage2 {
            let fence = tag == "R1"
            let text = reply("\(tag) In this picture, how many cats can you spot?", "I can spot two cats.", "I can spot three cats.")
            return .chat(fence ? "```json\n" + text + "\n```" : text)
        }
        return .chat(reply("\(tag) How many cats?", "Two cats.", "Three cats."))
    }

    @Test func augmentEndToEnd() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let records = (0..<5).map { i in
            #"{"id": "p\#(i)", "images": ["img/\#(i)a.jpg", "/abs/\#(i)b.jpg"], "captions": ["R\#(i): two cats on a sofa", "three cats on a sofa"], "category": "counting"}"#
        }
        try ("[" + records.joined(separator: ",\n") + "]").write(toFile: dir + "/kept.json", atomically: true, encoding: .utf8)
        let counts = Counts()
        let refuse = Counts()
        let server = try FakeJudgeServer { request, _ in
            Self.respond(request, counts: counts, refuseR4: { refuse.next("pass") <= 1 })
        }
        defer { server.shutdown() }
        let out = dir + "/mvc.json"
        let args = ["data", "augment", "--data", dir + "/kept.json", "--out", out, "--model", "gpt-test", "--base-url", server.baseURL,
                    "--concurrency", "2"]

        // Nothing cached and no key: one clear error, nothing written.
        let keyless = try Self.svco(args, key: nil)
        #expect(keyless.status != 0 && keyless.text.contains("OPENAI_API_KEY is not set"), "\(keyless.text)")
        #expect(!FileManager.default.fileExists(atPath: out) && server.requestCount == 0)

        let first = try Self.svco(args, key: Self.key)
        #expect(first.status == 0, "\(first.text)")
        // R0 2, R1 3 (one re-ask), R2 3 (three equal-answer replies), R3 2 + two 429s, R4 1 (refused).
        #expect(server.requestCount == 13, "\(server.requests.map(\.bodyText))")
        #expect(server.requests.allSatisfy { $0.header("Authorization") == "Bearer \(Self.key)" && $0.uri == "/v1/chat/completions" })
        #expect(first.text.contains("HTTP 429; retrying"), "\(first.text)")
        #expect(first.text.contains("record 2 (id p2): stage 1: \"answer_1\" and \"answer_2\" are the same; they must differ (after 3 replies)"), "\(first.text)")
        #expect(first.text.contains("record 4 (id p4): stage 1: the server refused the request (HTTP 400: content policy)"), "\(first.text)")
        #expect(first.text.contains("3 MVC records → \(out)") && first.text.contains("2 record(s) skipped"), "\(first.text)")
        let mvc = try #require(try Self.json(out) as? [[String: Any]])
        #expect(mvc.count == 3)
        #expect(mvc.map { $0["instruction_prompt"] as? String }
                == ["R0", "R1", "R3"].map { "\($0) In this picture, how many cats can you spot?" })
        #expect(mvc.allSatisfy { $0["chosen_response"] as? String == "I can spot two cats." && $0["rejected_response"] as? String == "I can spot three cats." })
        #expect(mvc.map { $0["chosen_images"] as? [String] } == [["img/0a.jpg"], ["img/1a.jpg"], ["img/3a.jpg"]])
        #expect(mvc.map { $0["rejected_images"] as? [String] } == [["/abs/0b.jpg"], ["/abs/1b.jpg"], ["/abs/3b.jpg"]])
        #expect(mvc.allSatisfy { $0["system_prompt"] as? String == "" && $0.count == 6 })
        // The trainer's reader accepts it (svco data split validates every record with it).
        let split = try Self.svco(["data", "split", "--input", out, "--val-num", "1", "--train-file", dir + "/t.json", "--val-file", dir + "/v.json"], key: nil)
        #expect(split.status == 0 && split.text.contains("2 training records"), "\(split.text)")
        let failed = try #require(try Self.json(out + ".failed.json") as? [[String: Any]])
        #expect(failed.map { $0["id"] as? String } == ["p2", "p4"] && failed.allSatisfy { $0["augment_error"] is String })
        // The re-ask carries the bad reply and what was wrong with it; stage 2 gets stage 1's result.
        let bodies = server.requests.map(\.bodyText)
        #expect(bodies.contains { $0.contains("R1") && $0.contains("That reply cannot be used: the reply is not valid JSON") && $0.contains("Sure! Here is") })
        #expect(bodies.contains { $0.contains("You rewrite question-and-answer pairs") && $0.contains(#"R1 How many cats?"#) })
        #expect(bodies.allSatisfy { $0.contains(#""model":"gpt-test""#) })

        // Rerun with the key: only R4 is asked again (now answered); everything else is cached.
        let second = try Self.svco(args, key: Self.key)
        #expect(second.status == 0, "\(second.text)")
        #expect(server.requestCount == 15, "\(second.text)")
        #expect(try #require(try Self.json(out) as? [[String: Any]]).count == 4)
        #expect(try #require(try Self.json(out + ".failed.json") as? [[String: Any]]).count == 1)  // R2 still fails, from the cache
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out))

        // Rerun without a key: all from the cache, the same file.
        let cached = try Self.svco(args, key: nil)
        #expect(cached.status == 0 && server.requestCount == 15, "\(cached.text)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == bytes)
        for run in [first, second, cached] { #expect(!run.text.contains(Self.key)) }
        for file in try FileManager.default.subpathsOfDirectory(atPath: dir) {
            guard let data = FileManager.default.contents(atPath: dir + "/" + file) else { continue }
            #expect(data.range(of: Data(Self.key.utf8)) == nil, "\(file)")
        }
        // Successful replies only: 10 in the first run (13 requests less two 429s and the 400), 2 in the second.
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + ".cache").count == 12)
    }

    @Test func augmentRefusesBadInputBeforeAsking() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"[{"images": ["a.jpg", "b.jpg"], "captions": ["only one"]}]"#.write(toFile: dir + "/k.json", atomically: true, encoding: .utf8)
        let server = try FakeJudgeServer { _, _ in .chat("{}") }
        defer { server.shutdown() }
        let r = try Self.svco(["data", "augment", "--data", dir + "/k.json", "--out", dir + "/m.json", "--model", "m", "--base-url", server.baseURL],
                              key: Self.key)
        #expect(r.status != 0 && r.text.contains("k.json: record 0: field 'captions': must be an array of two strings"), "\(r.text)")
        #expect(server.requestCount == 0 && !FileManager.default.fileExists(atPath: dir + "/m.json"))
        let url = try Self.svco(["data", "augment", "--data", dir + "/k.json", "--out", dir + "/m.json", "--model", "m", "--base-url", "ftp://x"], key: nil)
        #expect(url.status == 64 && url.text.contains("--base-url 'ftp://x' is not an http:// or https:// URL"), "\(url.text)")
    }
}
