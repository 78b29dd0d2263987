import Foundation
import Testing

/// `svco generate`: bad numeric flags are usage errors, answers stop where `svco eval`'s do, and
/// the context length is respected.
@Suite(.serialized) struct GenerateCLITests {
    static let image = "demo/mvc/images/blue-circle-big.png"
    static let base = ["generate", "--model", "demo/tiny-llava", "--image", image, "--prompt", "What is it?", "--max-new-tokens", "4"]

    /// Each flag is named in a usage error (exit 64) instead of reaching torch (nan once crashed
    /// multinomial with SIGILL).
    @Test(arguments: [
        (["--temperature", "nan"], "--temperature"), (["--temperature", "inf"], "--temperature"),
        (["--temperature", "-1"], "--temperature"), (["--top-p", "nan"], "--top-p"), (["--top-p", "0"], "--top-p"),
        (["--top-p", "1.5"], "--top-p"), (["--max-new-tokens", "0"], "--max-new-tokens"), (["--threads", "0"], "--threads"),
        (["--tf32", "maybe"], "--tf32"),
    ])
    func badNumbersAreUsageErrors(flag: [String], name: String) throws {
        let r = try CLITests.run(Self.base + flag)
        #expect(r.status == 64 && r.output.contains(name) && !r.output.contains("Fatal error"), "\(r.output)")
    }

    /// The same question through `svco generate` and `svco eval` stops on the same tokens: the
    /// letter model (it only ever says "A" or "B", never EOS) with a generation_config.json whose
    /// eos_token_id lists both letters stops after one token in both; with the folder's own
    /// eos_token_id (2) both run to --max-new-tokens.
    @Test func generateAndEvalStopAlike() throws {
        let letters = try EvalEndToEndTests.letterModel()
        let text = "Which of the 3 objects is the smallest?\nA. Left\nB. Right\nPlease answer directly with only the letter."
        let data = try EvalEndToEndTests.temporaryFolder("stop")
        try EvalEndToEndTests.fixtureImage("scene1.webp", to: data + "/1.webp")
        try EvalEndToEndTests.write(try EvalEndToEndTests.json(["question_id": "1", "image": "1.webp", "text": text, "answer": "A"]) + "\n",
                                    to: data + "/llava_test_realworldqa.jsonl")

        func both(_ out: String) throws -> (generated: String, evaluated: String) {
            let g = try CLITests.run(["generate", "--model", letters, "--image", data + "/1.webp", "--prompt", text, "--max-new-tokens", "6"])
            try #require(g.status == 0, "\(g.output)")
            let e = try CLITests.run(["eval", "--model", letters, "--benchmark", "realworldqa", "--data-root", data,
                                      "--output-dir", data + "/" + out, "--max-new-tokens", "6"])
            try #require(e.status == 0, "\(e.output)")
            let rows = try EvalEndToEndTests.rows(data + "/" + out + "/realworldqa.jsonl")
            return (g.output.trimmingCharacters(in: .whitespacesAndNewlines), try #require(rows.first?["response"]))
        }
        let unstopped = try both("plain")
        #expect(unstopped.generated == unstopped.evaluated)
        #expect(unstopped.generated.filter { $0 == "A" || $0 == "B" }.count == 6, "\(unstopped.generated)")

        let vocab = try #require(((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: letters + "/tokenizer.json")))
            as? [String: Any])?["model"] as? [String: Any])?["vocab"] as? [String: Int])
        let stops = [try #require(vocab["A"]), try #require(vocab["B"])]
        try EvalEndToEndTests.write(try EvalEndToEndTests.json(["eos_token_id": stops, "pad_token_id": 708]), to: letters + "/generation_config.json")
        let stopped = try both("stopped")
        #expect(stopped.generated == stopped.evaluated)
        #expect(["A", "B"].contains(stopped.generated), "\(stopped.generated)")
    }

    /// `--print-token-ids` adds one last line with the generated ids (how gpu-check compares CPU and
    /// GPU token by token) and leaves the answer text as it was.
    @Test func printsTokenIds() throws {
        let plain = try CLITests.run(Self.base)
        let withIds = try CLITests.run(Self.base + ["--print-token-ids"])
        try #require(plain.status == 0 && withIds.status == 0, "\(plain.output)\n\(withIds.output)")
        var lines = withIds.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last == "" { lines.removeLast() }
        let popped = lines.popLast()
        let last = try #require(popped)
        #expect(last.hasPrefix("token_ids ["), "\(withIds.output)")
        let ids = last.dropFirst("token_ids [".count).dropLast().split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        #expect((1...4).contains(ids.count) && ids.allSatisfy { (0..<768).contains($0) }, "\(last)")
        #expect(lines.joined(separator: "\n") == plain.output.trimmingCharacters(in: .newlines), "\(withIds.output)")
        // Greedy decoding: the same ids again.
        let again = try CLITests.run(Self.base + ["--print-token-ids"])
        #expect(again.output.hasSuffix(last + "\n"), "\(again.output)")
    }

    /// `--tf32 true|false` is accepted (it only changes CUDA kernels): the same answer on the CPU.
    @Test func tf32IsAcceptedOnTheCPU() throws {
        let plain = try CLITests.run(Self.base + ["--print-token-ids"])
        for value in ["false", "true"] {
            let r = try CLITests.run(Self.base + ["--print-token-ids", "--tf32", value])
            #expect(r.status == 0 && r.output == plain.output, "\(r.output)")
        }
    }

    /// The demo model has 256 positions (max_position_embeddings).
    @Test func contextLengthCapsOrRefuses() throws {
        let capped = try CLITests.run(["generate", "--model", "demo/tiny-llava", "--prompt", "Hi", "--max-new-tokens", "1000"])
        #expect(capped.status == 0 && capped.output.contains("max_position_embeddings") && capped.output.contains("instead of 1000"),
                "\(capped.output)")
        let long = String(repeating: "red ", count: 300)
        let refused = try CLITests.run(["generate", "--model", "demo/tiny-llava", "--prompt", long])
        #expect(refused.status == 1 && refused.output.contains("max_position_embeddings") && refused.output.contains("--prompt: the prompt is"),
                "\(refused.output)")
    }
}
