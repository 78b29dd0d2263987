import Foundation
import Testing

/// `svco train` as users drive it: the reference's run script verbatim, bad flags and files, resumes,
/// progress through a pipe. Runs the built binary on the demo model.
@Suite struct TrainCLITests {
    static let root = CLITests.root

    static func folder(_ name: String) -> String {
        NSTemporaryDirectory() + "svco-train-cli-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The demo run of PrecisionFlagsCLITests: 2 records per step, one step per batch.
    static func demo(_ out: String) -> [String] {
        ["train", "--model-name-or-path", "demo/tiny-llava", "--dataset-path", "demo/mvc/train.json", "--output-dir", out,
         "--per-device-train-batch-size", "2", "--gradient-accumulation-steps", "1", "--threads", "1"]
    }

    /// The reference's run_svco_example.sh argument list as written (Tests/TrainingTests/Fixtures/run-script),
    /// tiny paths substituted, plus --max_steps 1 to keep it short.
    @Test func referenceRunScriptTrains() throws {
        let fixtures = Self.root + "/Tests/TrainingTests/Fixtures/run-script"
        let out = Self.folder("reference") + "/"
        let values = ["{FAMILY}": "llava-1.5", "{MODEL}": "demo/tiny-llava", "{TRAIN}": "demo/mvc/train.json", "{EVAL}": "demo/mvc/eval.json",
                      "{DEEPSPEED}": fixtures + "/deepspeed_zero3.json", "{OUTPUT}": out]
        let script = try String(contentsOfFile: fixtures + "/reference_run_args.txt", encoding: .utf8)
            .split(separator: "\n").map { values[String($0)] ?? String($0) }
        let run = try CLITests.run(["train"] + script + ["--max_steps", "1", "--threads", "1"])
        #expect(run.status == 0, "\(run.output)")
        for line in ["run svco_lvint7b_mvc", "--report-to wandb: svco does not upload to Weights & Biases", "--tf32: no effect on the CPU",
                     "ZeRO stage 3: sharding needs several ranks", "training for 1 optimiser steps", "step 1/1", "eval loss",
                     "saved \(out)checkpoint-1"] {
            #expect(run.output.contains(line), "\(line)")
        }
        let metrics = try String(contentsOfFile: out + "metrics.jsonl", encoding: .utf8)
        #expect(metrics.contains("\"train_reward_acc/img_win_vs_no_img_reward_accuracies\"")
            && metrics.contains("\"eval_pi_logratios/pi_logratios_no_img_vs_img_win_distance\""))
        // fp16 from the script (--fp16 True, DeepSpeed "auto"): the checkpoint carries the loss scaler.
        #expect(try String(contentsOfFile: out + "checkpoint-1/trainer_state.json", encoding: .utf8).contains("grad_scaler"))
    }

    /// Step 1's scoring work is described in one line (gpu-check counts FLOPs from it): with 2 records
    /// per micro-batch, 4 distinct 16-token images, each in one packed image row; no CUDA memory
    /// figures on the CPU.
    @Test func stepWorkIsDescribed() throws {
        let out = Self.folder("work")
        let run = try CLITests.run(Self.demo(out) + ["--max-steps", "1"])
        try #require(run.status == 0, "\(run.output)")
        let line = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("scoring work of step 1 (last micro-batch, per model): ") },
                                "\(run.output)")
        #expect(line.hasSuffix("; 4 distinct images"), "\(line)")
        // "forward RxW (N image positions)" for each forward: the image rows hold 4 images of 16 positions.
        let forwards = line.split(separator: "forward ").dropFirst().map { part -> (Int, Int, Int) in
            let shape = part.prefix { $0 != " " }.split(separator: "x").compactMap { Int($0) }
            let images = Int(part.split(separator: "(")[1].prefix { $0.isNumber }) ?? -1
            return (shape.first ?? 0, shape.last ?? 0, images)
        }
        #expect(forwards.count == 2 && forwards.map(\.2).reduce(0, +) == 64, "\(line)")
        #expect(forwards.allSatisfy { $0.0 >= 1 && $0.1 >= 1 }, "\(line)")
        let scored = Int(line.split(separator: "; ")[1].prefix { $0.isNumber }) ?? 0
        #expect(scored > 0, "\(line)")
        #expect(!run.output.contains("peak CUDA memory"))
        #expect(!(try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)).contains("max_memory_allocated_gib"))
    }

    /// `--offload-optimizer-device cpu` says where the moments went — 2 × the demo model's trained
    /// values, counted from its config below — and, on the CPU, that it buys nothing there.
    @Test func offloadSaysWhereTheMomentsAre() throws {
        // demo/tiny-llava: Llama h 64, I 128, 2 layers, k/v 2 of 4 heads, vocabulary 768, untied; projector 64 → 64 → 64.
        let (h, i, kv, vocab) = (64, 128, 32, 768)
        let trained = 2 * (2 * h * h + 2 * h * kv + 3 * h * i + 2 * h) + h + 2 * vocab * h + (h * h + h + h * h + h)
        let out = Self.folder("offload")
        let run = try CLITests.run(Self.demo(out) + ["--max-steps", "1", "--offload-optimizer-device", "cpu"])
        #expect(run.status == 0, "\(run.output)")
        let count = (2 * trained).formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
        #expect(run.output.contains("optimizer state: AdamW's moments (\(count) values, 0.00 GB) in CPU memory, streamed through cpu"),
                "\(count): \(run.output)")
        #expect(run.output.contains("--offload-optimizer-device cpu: the model is on the CPU, where the moments are anyway"), "\(run.output)")
    }

    /// Numbers are checked at start-up: a usage error (64) naming the flag, no crash, nothing written.
    @Test(arguments: [
        (["--num-train-epochs", "nan"], "--num-train-epochs: expected a finite number, got 'nan'"),
        (["--num-train-epochs", "1e30"], "--num-train-epochs: must lie in [0.0, 1000000.0], got 1e30"),
        (["--warmup-ratio", "nan"], "--warmup-ratio: expected a finite number, got 'nan'"),
        (["--num-train-epochs", "0"], "trains nothing"),
        (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size: must lie in [1, 65536], got 0"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--device", "tpu"], "--device 'tpu' is not cpu, cuda or cuda:N"),  // the device options (and CUDA check) of every command
    ])
    func badNumbersAreUsageErrors(_ flags: [String], _ phrase: String) throws {
        let out = Self.folder("bad-number")
        let run = try CLITests.run(Self.demo(out) + flags)
        #expect(run.status == 64 && run.output.contains(phrase), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// HF's own defaults and "off" values are negative: accepted on the command line and in YAML.
    @Test func negativeValuesAreAccepted() throws {
        let out = Self.folder("negative")
        let config = try CLITests.temporary("negative.yaml", "save_steps: -1\nbeta_img_lose_vs_no_img_preference: -0.1\n")
        let run = try CLITests.run(Self.demo(out) + ["--config", config, "--max-steps", "2", "--beta-no-img-vs-img-win", "-1"])
        #expect(run.status == 0 && run.output.contains("step 2/2"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: out + "/checkpoint-2"), "--save-steps -1 writes no checkpoint")
    }

    /// HF's negative form of a boolean flag reaches the trainer through the CLI's argument carrier too.
    @Test func negatedBooleanFlagsAreRead() throws {
        let out = Self.folder("negated")
        let run = try CLITests.run(Self.demo(out) + ["--max-steps", "1", "--no-prefix-sharing", "--no_fix_vit", "--save-steps", "0"])
        #expect(run.status == 0 && run.output.contains("step 1/1"), "\(run.output)")
        // With the vision tower trained (--no_fix_vit) every one of the demo model's 64 tensors trains.
        #expect(run.output.contains("(64 trainable parameter tensors, 0 frozen)"), "\(run.output)")
    }

    /// A missing file, or a folder where a file belongs: one line naming it, never a raw CocoaError dump.
    @Test func missingFilesAndFoldersAreOneLine() throws {
        let out = Self.folder("files")
        let cases: [([String], String)] = [
            (["train", "--model-name-or-path", "demo/tiny-llava", "--dataset-path", "/nonexistent/train.json", "--output-dir", out],
             "Error: /nonexistent/train.json: no such file"),
            (["train", "--model-name-or-path", "demo/tiny-llava", "--dataset-path", "demo/mvc", "--output-dir", out],
             "Error: demo/mvc: is a folder, not a file"),
            (["train", "--model-name-or-path", "demo/mvc", "--dataset-path", "demo/mvc/train.json", "--output-dir", out],
             "Error: demo/mvc/config.json: no such file"),
            (["train", "--config", "demo", "--output-dir", out], "Error: --config demo: is a folder, not a file"),
            (["plot", "demo/mvc/train.json"], "Error: demo/mvc/train.json/metrics.jsonl: a part of the path is not a folder"),
            (["data", "split", "--input", "demo/mvc", "--train-file", out + "/a.json", "--val-file", out + "/b.json"],
             "Error: demo/mvc: is a folder, not a file"),
            (["generate", "--model", "demo/tiny-llava", "--image", "/nonexistent.png", "--prompt", "Where?"],
             "Error: /nonexistent.png: cannot read the file (no such file)"),
        ]
        for (arguments, expected) in cases {
            let run = try CLITests.run(arguments)
            #expect(run.status != 0 && run.output.contains(expected) && !run.output.contains("CocoaError"), "\(arguments): \(run.output)")
        }
    }

    @Test func modelFamilyIdIsCheckedAgainstTheConfig() throws {
        let run = try CLITests.run(Self.demo(Self.folder("family")) + ["--model_family_id", "llava-interleave", "--max-steps", "1"])
        #expect(run.status == 1 && run.output.contains("--model-family-id llava-interleave does not match demo/tiny-llava, a llava-1.5"), "\(run.output)")
    }

    /// `--resume-from-checkpoint latest` on a finished run trains nothing and leaves its files alone.
    @Test func resumingAFinishedRunTrainsNothing() throws {
        let out = Self.folder("finished")
        let first = try CLITests.run(Self.demo(out) + ["--max-steps", "2"])
        #expect(first.status == 0 && first.output.contains("saved \(out)/checkpoint-2"), "\(first.output)")
        let metrics = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
        let model = try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors"))
        let again = try CLITests.run(Self.demo(out) + ["--max-steps", "2", "--resume-from-checkpoint", "latest"])
        #expect(again.status == 0 && again.output.contains("the run finished at step 2 already: nothing to train"), "\(again.output)")
        #expect(!again.output.contains("step 1/2") && !again.output.contains("step 2/2"))
        #expect(try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8) == metrics)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors")) == model)
    }

    /// Progress lines arrive while the run goes on, also when stdout is a pipe (line-buffered).
    @Test func progressArrivesThroughAPipeAsItIsPrinted() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = Self.demo(Self.folder("pipe")) + ["--max-steps", "500", "--save-steps", "0", "--eval-steps", "0"]
        process.currentDirectoryURL = URL(fileURLWithPath: Self.root)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        var seen = ""
        let deadline = Date().addingTimeInterval(120)
        while !seen.contains("step 2/500") && Date() < deadline {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        #expect(seen.contains("step 2/500"), "\(seen)")
        #expect(process.isRunning, "the lines came before the run ended")
    }

    /// A length that leaves no response token to score (here every record's) stops the run before step 1.
    @Test func aMaxLengthThatCutsEveryResponseIsRefused() throws {
        let out = Self.folder("max-length")
        let run = try CLITests.run(Self.demo(out) + ["--model-max-length", "1", "--max-steps", "1"])
        #expect(run.status == 1 && run.output.contains("64 of 64 training records keep no response token after truncation to --model-max-length 1"),
                "\(run.output)")
        #expect(!run.output.contains("step 1/1") && !FileManager.default.fileExists(atPath: out + "/metrics.jsonl"))
    }

    /// `svco data check` reports what `train` would refuse: records whose response truncation empties.
    @Test func dataCheckReportsRecordsWithoutScoredTokens() throws {
        let run = try CLITests.run(["data", "check", "--model", "demo/tiny-llava", "--data", "demo/mvc/train.json", "--model-max-length", "8"])
        #expect(run.status == 1 && run.output.contains("records with a sequence whose response was cut away entirely: 64"), "\(run.output)")
        #expect(run.output.contains("records 0 (cc, rc, cr, rr, nc, nr)") && run.output.contains("unreadable images: 0"), "\(run.output)")
    }
}

/// The other training-side commands' numbers: negative values are reported as bad values, not as a
/// missing value.
@Suite struct DataScoreCLITests {
    @Test func negativeNumbersAreBadValues() throws {
        let out = TrainCLITests.folder("data")
        let split = try CLITests.run(["data", "split", "--input", "demo/mvc/train.json", "--val-num", "-1",
                                      "--train-file", out + "/a.json", "--val-file", out + "/b.json"])
        #expect(split.status == 64 && split.output.contains("--val-num must not be negative"), "\(split.output)")
        let score = try CLITests.run(["score", "--model", "demo/tiny-llava", "--data", "demo/mvc/train.json", "--out", out + "/s.jsonl",
                                      "--batch-size", "-2"])
        #expect(score.status == 64 && score.output.contains("--batch-size and --max-length must be at least 1"), "\(score.output)")
        let check = try CLITests.run(["data", "check", "--model", "demo/tiny-llava", "--data", "demo/mvc/train.json", "--model-max-length", "0"])
        #expect(check.status == 64 && check.output.contains("--model-max-length must be at least 1"), "\(check.output)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
