import Foundation
import Testing

/// `--precompute-ref-log-probs` and `svco score --ref-log-probs-cache` through the executable: the
/// first run computes and writes the cache, a rerun (training or scoring with the same reference and
/// inputs) reads it, a damaged cache is rebuilt, and the flags that cannot apply are refused.
@Suite struct ReferenceCacheCLITests {
    @Test func precomputeThenReuseThenRebuild() throws {
        let out = NSTemporaryDirectory() + "svco-refcache-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let cache = out + "/ref.bin"
        func train(_ extra: [String] = []) throws -> CLITests.Run {
            try CLITests.run(["train", "--model-name-or-path", "demo/tiny-llava", "--dataset-path", "demo/mvc/eval.json",
                              "--output-dir", out, "--max-steps", "1", "--save-steps", "0", "--eval-steps", "0",
                              "--precompute-ref-log-probs", "--ref-log-probs-cache", cache] + extra)
        }
        let first = try train()
        #expect(first.status == 0 && first.output.contains("0 records from the cache, 16 computed"), "\(first.output)")
        // `svco score` with the same reference and inputs reads what training wrote.
        let scored = try CLITests.run(["score", "--model", "demo/tiny-llava", "--reference", "demo/tiny-llava", "--data", "demo/mvc/eval.json",
                                       "--out", out + "/scores.jsonl", "--ref-log-probs-cache", cache])
        #expect(scored.status == 0 && scored.output.contains("16 records from the cache, 0 computed"), "\(scored.output)")
        // The model scored against itself: every reward is 0 (the cached values are its own log-probs).
        // (Up to float32 rounding: the cache was scored in packed rows, the policy in padded ones.)
        let lines = try String(contentsOfFile: out + "/scores.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 16)
        for line in lines {
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double] ?? [:]
            for key in ["cc", "rc", "cr", "rr", "nc", "nr"] {
                let reward = row["reward_" + key] ?? .nan
                #expect(abs(reward) <= 1e-5 * max(1, abs(row[key] ?? 1)), "\(key): reward \(reward)")
            }
        }
        // A cut file is detected and rebuilt.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: cache))
        try bytes.dropLast(7).write(to: URL(fileURLWithPath: cache))
        let again = try train()
        #expect(again.status == 0 && again.output.contains("corrupt") && again.output.contains("16 computed"), "\(again.output)")
        // Another max length is another key.
        let longer = try train(["--model-max-length", "64"])
        #expect(longer.status == 0 && longer.output.contains("another key") && longer.output.contains("16 computed"), "\(longer.output)")
    }

    @Test func precomputeIsRefusedWhereThereIsNoReference() throws {
        for extra in [["--loss", "sft"], ["--reference-free"], ["--loss", "mdpo"]] {
            let r = try CLITests.run(["train", "--model-name-or-path", "demo/tiny-llava", "--dataset-path", "demo/mvc/eval.json",
                                      "--output-dir", "/nonexistent/out", "--precompute-ref-log-probs"] + extra)
            #expect(r.status != 0 && r.output.contains("--precompute-ref-log-probs"), "\(extra): \(r.output)")
        }
        let r = try CLITests.run(["score", "--model", "demo/tiny-llava", "--data", "demo/mvc/eval.json", "--out", "/nonexistent/x",
                                  "--ref-log-probs-cache", "/nonexistent/c"])
        #expect(r.status != 0 && r.output.contains("--ref-log-probs-cache needs --reference"), "\(r.output)")
    }
}
