import Foundation
import Testing

/// `svco train --fp16` and `--gradient-checkpointing`, on the command line and in --config.
@Suite struct PrecisionFlagsCLITests {
    static func trainArguments(_ out: String) -> [String] {
        ["train", "--model-name-or-path", "demo/tiny-llava", "--dataset-path", "demo/mvc/train.json", "--output-dir", out,
         "--max-steps", "2", "--eval-steps", "0", "--per-device-train-batch-size", "2",
         "--gradient-accumulation-steps", "1", "--learning-rate", "1e-3"]
    }

    @Test func fp16AndBF16TogetherAreAUsageError() throws {
        let out = NSTemporaryDirectory() + "svco-fp16bf16-\(getpid())"
        let run = try CLITests.run(Self.trainArguments(out) + ["--save-steps", "0", "--fp16", "--bf16"])
        #expect(run.status != 0 && run.output.contains("--fp16 and --bf16"), "\(run.output)")
    }

    @Test func fp16WithCheckpointingTrainsFromAConfigFile() throws {
        let out = NSTemporaryDirectory() + "svco-fp16ckpt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let config = try CLITests.temporary("fp16.yaml", "fp16: true\ngradient_checkpointing: true\n")
        let run = try CLITests.run(["train", "--config", config] + Self.trainArguments(out).dropFirst() + ["--save-steps", "1"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("step 2/2") && !run.output.contains("not implemented"), "\(run.output)")
        // fp16 is on: the checkpoint of step 1 carries the loss scaler's state.
        let state = try String(contentsOfFile: out + "/checkpoint-1/trainer_state.json", encoding: .utf8)
        #expect(state.contains("\"grad_scaler\""), "\(state)")
        let lines = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
    }
}
