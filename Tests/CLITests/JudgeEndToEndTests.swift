import FakeJudgeServer
import Foundation
import Testing

/// `svco eval` end to end for the three GPT-judged benchmarks: the bundled demo model answers a few
/// questions in each benchmark's release layout (demo images under the benchmark's names), a fake
/// OpenAI-compatible server on 127.0.0.1 judges, and the output files are checked, including that
/// the key appears nowhere and that a rerun is served from the cache.
@Suite(.serialized) struct JudgeEndToEndTests {
    static let key = "sk-e2e-SECRET-\(UInt32.random(in: 0...UInt32.max))"

    /// The fake judge: a reply per benchmark, recognised by its official prompt.
    static func reply(_ request: FakeRequest) -> FakeResponse {
        let body = request.bodyText
        if body.contains("Just complete the last space of the correctness score.") {
            // MM-Vet: question "Q1" gets 1.0, the others 0.4; "Q2" first gets an unreadable reply.
            if body.contains("Q2 of MM-Vet |") && !body.contains("(digit)") { return .chat("Correct") }
            return .chat(body.contains("Q1 of MM-Vet |") ? "1.0" : "0.4")
        }
        if body.contains("[Context]") { return .chat("8 6\nAssistant 1 is more accurate.") }
        if body.contains("### Image Contents") { return .chat("The answer has no false claims.\nRating: 5, very informative, no hallucination") }
        return FakeResponse(status: 400, body: #"{"error":{"message":"unexpected prompt"}}"#)
    }

    struct Output {
        var status: Int32
        var text: String
    }

    static func svco(_ arguments: [String], key: String?) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
        var environment = ProcessInfo.processInfo.environment
        environment["OPENAI_API_KEY"] = key
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, text: String(decoding: data, as: UTF8.self))
    }

    static func folder() throws -> String {
        let dir = NSTemporaryDirectory() + "svco-judge-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        return dir
    }

    /// Demo images (PNG bytes; the decoder goes by content) under the given names.
    static func images(_ names: [String], in dir: String) throws {
        let pool = try FileManager.default.contentsOfDirectory(atPath: CLITests.root + "/demo/mvc/images").sorted()
        for (i, name) in names.enumerated() {
            try FileManager.default.copyItem(atPath: CLITests.root + "/demo/mvc/images/" + pool[i % pool.count], toPath: dir + "/images/" + name)
        }
    }

    static func write(_ text: String, _ path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func rows(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func summary(_ out: String) throws -> [String: [String: Double]] {
        try JSONDecoder().decode([String: [String: Double]].self, from: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
    }

    /// No output file (the cache included) and no console line contains the key.
    static func expectKeyNowhere(_ out: String, _ runs: [Output]) throws {
        for run in runs { #expect(!run.text.contains(key)) }
        let files = FileManager.default.enumerator(atPath: out)?.compactMap { $0 as? String } ?? []
        #expect(files.contains { $0.hasPrefix("judge-cache/") })
        for file in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: out + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/" + file))
            #expect(bytes.range(of: Data(key.utf8)) == nil, "\(file)")
        }
    }

    static func evalArguments(_ bench: String, data: String, out: String, server: FakeJudgeServer, limit: Int) -> [String] {
        ["eval", "--model", "demo/tiny-llava", "--benchmark", bench, "--data-root", data, "--output-dir", out, "--limit", "\(limit)",
         "--max-new-tokens", "4", "--batch-size", "4", "--judge-base-url", server.baseURL, "--judge-concurrency", "2"]
    }

    @Test func mmvet() throws {
        let data = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: data) }
        var entries: [String] = []
        for (i, caps) in [#"["rec"]"#, #"["ocr", "math"]"#, #"["rec", "know"]"#].enumerated() {
            entries.append(#""v1_\#(i)": {"imagename": "v1_\#(i).png", "question": "Q\#(i) of MM-Vet", "answer": "A<AND>B", "capability": \#(caps)}"#)
        }
        try Self.write("{" + entries.joined(separator: ", ") + "}", data + "/mm-vet.json")
        try Self.images(["v1_0.png", "v1_1.png", "v1_2.png"], in: data)
        let server = try FakeJudgeServer { request, _ in Self.reply(request) }
        defer { server.shutdown() }
        let out = data + "/out"
        let args = Self.evalArguments("mmvet", data: data, out: out, server: server, limit: 3)

        let first = try Self.svco(args, key: Self.key)
        #expect(first.status == 0, "\(first.text)")
        #expect(server.requestCount == 4)  // three questions, one re-ask for the unreadable "Correct"
        #expect(server.requests.allSatisfy { $0.header("Authorization") == "Bearer \(Self.key)" })
        #expect(server.requests.allSatisfy { $0.bodyText.contains(#""model":"gpt-4-0613""#) && $0.bodyText.contains(#""max_tokens":3"#) })
        let rows = try Self.rows(out + "/mmvet.jsonl")
        #expect(rows.map { $0["judge_score"] as? Double } == [0.4, 1.0, 0.4])
        #expect(rows.map { $0["judge_reply"] as? String } == ["0.4", "1.0", "0.4"] && rows.allSatisfy { $0["judge_parsed"] as? Bool == true })
        let s = try #require(try Self.summary(out)["mmvet"])
        #expect(abs((s["total"] ?? 0) - 1.8 / 3 * 100) < 1e-9 && s["rec"] == 40 && s["ocr"] == 100 && s["int_math_ocr"] == 100)
        #expect(s["questions"] == 3)
        #expect(first.text.contains("mmvet") && first.text.contains("total"))

        // A rerun asks nothing: with the key, and without it (the cache answers everything).
        let again = try Self.svco(args, key: Self.key)
        let keyless = try Self.svco(args, key: nil)
        #expect(again.status == 0 && keyless.status == 0, "\(keyless.text)")
        #expect(server.requestCount == 4 && keyless.text.contains("judge: all 3 replies cached"), "\(keyless.text)")
        #expect(try Self.summary(out)["mmvet"] == s)
        try Self.expectKeyNowhere(out, [first, again, keyless])

        // No key and nothing cached: one clear error before any answering.
        let fresh = data + "/fresh"
        let missing = try Self.svco(Self.evalArguments("mmvet", data: data, out: fresh, server: server, limit: 3), key: nil)
        #expect(missing.status != 0 && missing.text.contains("OPENAI_API_KEY is not set"), "\(missing.text)")
        #expect(!FileManager.default.fileExists(atPath: fresh + "/mmvet.jsonl"))
    }

    @Test func llavabench() throws {
        let data = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let categories = ["conv", "detail", "complex"]
        try Self.write(categories.enumerated().map { i, c in
            #"{"image": "00\#(i).jpg", "text": "Question \#(i)?", "category": "\#(c)", "question_id": \#(i)}"#
        }.joined(separator: "\n") + "\n", data + "/questions.jsonl")
        try Self.write((0..<3).map { #"{"question_id": \#($0), "text": "Reference answer \#($0)."}"# }.joined(separator: "\n"), data + "/answers_gpt4.jsonl")
        try Self.write((0..<3).map { #"{"id": "00\#($0)", "image": "00\#($0).jpg", "caption": "Caption \#($0)."}"# }.joined(separator: "\n"),
                       data + "/context.jsonl")
        let rule = #"{"role": "Assistant", "prompt": "Please first output a single line containing only two values."}"#
        try Self.write("{" + categories.map { #""llava_bench_\#($0)": \#(rule)"# }.joined(separator: ", ") + "}",
                       data + "/llavabench_gpt_review_rule.json")
        try Self.images(["000.jpg", "001.jpg", "002.jpg"], in: data)
        let server = try FakeJudgeServer { request, _ in Self.reply(request) }
        defer { server.shutdown() }
        let out = data + "/out"
        let args = Self.evalArguments("llavabench", data: data, out: out, server: server, limit: 3)

        let first = try Self.svco(args, key: Self.key)
        #expect(first.status == 0, "\(first.text)")
        #expect(server.requestCount == 3)
        let body = try #require(server.requests.first?.bodyText)
        #expect(body.contains(#""temperature":0.2"#) && body.contains(#""max_tokens":1024"#) && body.contains(#""model":"gpt-4-0314""#))
        #expect(body.contains(#"[Context]\nC\na\np"#) && body.contains(#"[Assistant 1]\nReference answer"#))
        let rows = try Self.rows(out + "/llavabench.jsonl")
        #expect(rows.allSatisfy { $0["judge_score"] as? Double == 6 && $0["judge_reference_score"] as? Double == 8 })
        let s = try #require(try Self.summary(out)["llavabench"])
        for category in ["all", "conv", "detail", "complex"] { #expect(s[category] == 75, "\(category)") }

        let again = try Self.svco(args, key: Self.key)
        #expect(again.status == 0 && server.requestCount == 3)

        // Without images: scored too, and the with/without-image gap appears.
        let noImage = try Self.svco(args + ["--no-image"], key: Self.key)
        #expect(noImage.status == 0, "\(noImage.text)")
        let summary = try Self.summary(out)
        #expect(summary["llavabench_no_image"]?["all"] == 75 && summary["llavabench_image_gap"]?["all"] == 0)
        try Self.expectKeyNowhere(out, [first, again, noImage])
    }

    @Test func mmhal() throws {
        let data = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let types = ["attribute", "adversarial", "counting"]
        let records = types.enumerated().map { i, t in
            #"{"question_type": "\#(t)", "question_topic": "outdoor", "image_id": "img\#(i)", "image_src": "https://example.com/\#(i).jpg", "#
                + #""image_content": ["Dog", "Tree"], "question": "What is in picture \#(i)?", "gt_answer": "A dog.", "model_answer": ""}"#
        }
        try Self.write("[" + records.joined(separator: ",\n") + "]", data + "/mmhal-bench_answer_template.json")
        try Self.images(["img0.jpg", "img1.jpg", "img2.jpg"], in: data)
        let server = try FakeJudgeServer { request, _ in Self.reply(request) }
        defer { server.shutdown() }
        let out = data + "/out"
        let cache = data + "/my-cache"
        let args = Self.evalArguments("mmhal", data: data, out: out, server: server, limit: 3) + ["--judge-cache", cache]

        let first = try Self.svco(args, key: Self.key)
        #expect(first.status == 0, "\(first.text)")
        #expect(server.requestCount == 3)
        #expect(server.requests.allSatisfy { $0.bodyText.contains("### Image Contents\\nDog, Tree\\n") && !$0.bodyText.contains("max_tokens") })
        let rows = try Self.rows(out + "/mmhal.jsonl")
        #expect(rows.count == 3 && rows.allSatisfy { $0["judge_score"] as? Double == 5 })
        let s = try #require(try Self.summary(out)["mmhal"])
        #expect(s["score"] == 5 && s["hallucination_rate"] == 0 && s["score_counting"] == 5 && s["questions"] == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).count == 3)

        let again = try Self.svco(args, key: nil)
        #expect(again.status == 0 && server.requestCount == 3, "\(again.text)")
        for run in [first, again] { #expect(!run.text.contains(Self.key)) }
        for file in try FileManager.default.contentsOfDirectory(atPath: cache) {
            #expect(try !String(contentsOfFile: cache + "/" + file, encoding: .utf8).contains(Self.key))
        }
    }

    @Test func judgeServerErrorsNameTheQuestionAndKeepTheAnswers() throws {
        let data = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try Self.write(#"{"v1_0": {"imagename": "v1_0.png", "question": "Q", "answer": "A", "capability": ["rec"]}}"#, data + "/mm-vet.json")
        try Self.images(["v1_0.png"], in: data)
        let server = try FakeJudgeServer { _, _ in FakeResponse(status: 500, body: "boom", headers: [("Retry-After", "0")]) }
        defer { server.shutdown() }
        let out = data + "/out"
        let r = try Self.svco(Self.evalArguments("mmvet", data: data, out: out, server: server, limit: 1) + ["--judge-attempts", "2"], key: Self.key)
        #expect(r.status == 1 && r.text.contains("judge: mmvet v1_0: HTTP 500 after 2 attempts"), "\(r.text)")
        #expect(server.requestCount == 2 && !r.text.contains(Self.key))
        #expect(try Self.rows(out + "/mmvet.jsonl").count == 1)  // the answers survive for a rerun
        #expect(!FileManager.default.fileExists(atPath: out + "/summary.json"))
    }
}
