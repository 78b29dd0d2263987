import Foundation
import Testing
@testable import Datasets
@testable import Training

/// `svco train`'s flags: the reference's run script as written, HF's argument-parser semantics,
/// range checks at start-up, --config YAML and --deepspeed files.
@Suite struct TrainingArgumentsTests {
    static let fixtures = TrainerTests.root + "/Tests/TrainingTests/Fixtures/run-script"

    /// The run script's argument list with tiny fixture paths (Fixtures/run-script/README.md).
    static func referenceArguments(output: String) throws -> [String] {
        let text = try String(contentsOfFile: fixtures + "/reference_run_args.txt", encoding: .utf8)
        let values = ["{FAMILY}": "llava-1.5", "{MODEL}": TrainerTests.root + "/demo/tiny-llava",
                      "{TRAIN}": TrainerTests.root + "/demo/mvc/train.json", "{EVAL}": TrainerTests.root + "/demo/mvc/eval.json",
                      "{DEEPSPEED}": fixtures + "/deepspeed_zero3.json", "{OUTPUT}": output]
        return text.split(separator: "\n").map { values[String($0)] ?? String($0) }
    }

    static func parse(_ argv: [String]) throws -> TrainingArguments { try TrainingCommandLine.arguments(argv) }

    static func message(_ argv: [String]) -> String {
        do {
            _ = try parse(argv)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    static let required = ["--model-name-or-path", "m", "--dataset-path", "d.json", "--output-dir", "out"]

    @Test func referenceRunScriptParses() throws {
        let args = try Self.parse(Self.referenceArguments(output: "/tmp/out/"))
        var expected = TrainingArguments()
        expected.svco = true
        expected.runName = "svco_lvint7b_mvc"
        expected.modelFamilyId = .llava15
        expected.modelNameOrPath = TrainerTests.root + "/demo/tiny-llava"
        expected.fixVit = true
        expected.fixMultimodalProjector = false
        expected.betas = [0.1, 0.1, 0.1, 0.1]
        expected.fp16 = true
        expected.bf16 = false
        expected.tf32 = true
        expected.deepspeed = Self.fixtures + "/deepspeed_zero3.json"
        expected.zeroStage = 3
        expected.useFlashAttn = true
        expected.datasetPath = TrainerTests.root + "/demo/mvc/train.json"
        expected.evalDatasetPath = TrainerTests.root + "/demo/mvc/eval.json"
        expected.modelMaxLength = 128
        expected.dataloaderNumWorkers = 16
        expected.numTrainEpochs = 1
        expected.perDeviceTrainBatchSize = 1
        expected.perDeviceEvalBatchSize = 1
        expected.gradientAccumulationSteps = 4
        expected.learningRate = 1e-6
        expected.weightDecay = 0.02
        expected.adamBeta2 = 0.95
        expected.warmupRatio = 0.05
        expected.lrSchedulerType = .cosine
        expected.gradientCheckpointing = true
        expected.evalStrategy = .steps
        expected.evalSteps = 31
        expected.saveStrategy = .steps
        expected.saveSteps = 31
        expected.saveTotalLimit = 100
        expected.loggingSteps = 31
        expected.loggingFirstStep = true
        expected.reportTo = [.wandb]
        expected.outputDir = "/tmp/out/"
        #expect(args == expected)
        #expect(args.loss.make(args) is SVCOLoss)
    }

    @Test func snakeKebabEqualsAndNegativeValues() throws {
        let args = try Self.parse(Self.required + ["--max-steps", "-1", "--save_steps=-1", "--beta_img_win_vs_no_img_preference", "-0.5",
                                                    "--beta-no-img-vs-img-lose", "0.3", "--warmup_steps=2", "--seed", "7"])
        #expect(args.maxSteps == -1 && args.saveSteps == -1 && args.betaImgWinVsNoImg == -0.5 && args.betaNoImgVsImgLose == 0.3)
        #expect(args.warmupSteps == 2 && args.seed == 7)
        // The last of repeated flags wins, as in argparse.
        #expect(try Self.parse(Self.required + ["--learning_rate", "1e-3", "--learning-rate", "2e-3"]).learningRate == 2e-3)
    }

    @Test func booleansAloneOrWithAValue() throws {
        #expect(try Self.parse(Self.required + ["--fp16"]).fp16)
        #expect(try Self.parse(Self.required + ["--fp16", "True"]).fp16)
        #expect(try Self.parse(Self.required + ["--fp16=yes"]).fp16)
        #expect(try !Self.parse(Self.required + ["--fp16", "false"]).fp16)
        #expect(try !Self.parse(Self.required + ["--no_fix_vit"]).fixVit)
        #expect(try !Self.parse(Self.required + ["--fix-vit", "0"]).fixVit)
        #expect(Self.message(Self.required + ["--fp16", "maybe"]) == "--fp16: expected true or false, got 'maybe'")
    }

    /// Every number is checked when it is read: NaN, infinities and out-of-range values are usage
    /// errors naming the flag (they used to crash converting Double to Int, or train nothing).
    @Test(arguments: [
        (["--num-train-epochs", "nan"], "--num-train-epochs: expected a finite number, got 'nan'"),
        (["--num_train_epochs", "inf"], "--num_train_epochs: expected a finite number, got 'inf'"),
        (["--num-train-epochs", "1e30"], "--num-train-epochs: must lie in [0.0, 1000000.0], got 1e30"),
        (["--warmup-ratio", "nan"], "--warmup-ratio: expected a finite number, got 'nan'"),
        (["--warmup-ratio", "1e30"], "--warmup-ratio: must lie in [0.0, 1.0], got 1e30"),
        (["--learning-rate", "-1e-6"], "--learning-rate: must be at least 0.0, got -1e-6"),
        (["--adam-beta2", "1"], "--adam-beta2: must lie in [0, 1), got 1"),
        (["--per-device-train-batch-size", "0"], "--per-device-train-batch-size: must lie in [1, 65536], got 0"),
        (["--gradient-accumulation-steps", "2.5"], "--gradient-accumulation-steps: expected an integer, got '2.5'"),
        (["--model-max-length", "-3"], "--model-max-length: must lie in [1, 1000000], got -3"),
        (["--zero-stage", "4"], "--zero-stage: must lie in [0, 3], got 4"),
        (["--seed", "-1"], "--seed: expected a non-negative integer, got '-1'"),
        (["--lr-scheduler-type", "cosin"], "--lr-scheduler-type: expected one of constant, constant_with_warmup, linear, cosine, got 'cosin'"),
        (["--max-steps"], "--max-steps: needs a value (an integer)"),
        (["--num-train-epochs", "0"], "--num-train-epochs 0.0 with --max-steps -1 trains nothing: give a positive --num-train-epochs or --max-steps"),
        (["--num-train-epochs", "-4"], "--num-train-epochs: must lie in [0.0, 1000000.0], got -4"),
        (["--fp16", "--bf16"], "--fp16 and --bf16 exclude each other: choose one precision"),
        (["--svco", "False"], "--svco false: choose the objective with --loss (dpo, mdpo or sft); svco's is S-VCO"),
        (["--loss", "dpo", "--svco"], "--svco true and --loss dpo contradict each other: choose one objective"),
        (["--loss", "dpo", "--beta-img-win-vs-no-img", "0"],
         "--loss dpo takes its β from --beta-img-win-vs-no-img-preference, which must be > 0 (it is 0.0)"),
        (["--beta-img-win-vs-no-img", "0", "--beta-no-img-vs-img-lose", "-1", "--beta-img-lose-vs-no-img", "0", "--beta-no-img-vs-img-win", "0"],
         "every beta is <= 0: at least one S-VCO term must be on"),
    ])
    func badValuesAreUsageErrorsNamingTheFlag(_ flags: [String], _ expected: String) {
        #expect(Self.message(Self.required + flags) == expected)
    }

    @Test func requiredFlagsAndUnknownOnes() {
        #expect(Self.message(["--dataset-path", "d.json", "--output-dir", "o"]) == "missing --model-name-or-path <dir>")
        #expect(Self.message(Self.required + ["--learning-rat", "1"]) == "unknown option '--learning-rat'")
    }

    /// A negative step count is HF's own default (-1): the epochs decide.
    @Test func maxStepsMinusOneTrainsTheEpochs() throws {
        var args = try Self.parse(Self.required + ["--max-steps", "-1", "--num-train-epochs", "2", "--per-device-train-batch-size", "2",
                                                    "--gradient-accumulation-steps", "2"])
        #expect(args.totalSteps(records: 10) == 6)  // ceil(5 micro-batches / 2) per epoch × 2
        args.maxSteps = 4
        #expect(args.totalSteps(records: 10) == 4)
    }

    @Test func configFileWithNegativeValuesBooleansAndLists() throws {
        let dir = TrainerTests.folder("config")
        let path = dir + "/run.yaml"
        try """
            # a run configuration
            model_name_or_path: m
            dataset_path: "d.json"
            output-dir: out
            max_steps: -1
            save_steps: -1
            beta_img_win_vs_no_img_preference: -0.1
            fp16: on
            fix_vit: false
            report_to: [tensorboard, wandb]
            learning_rate: 1.0e-5   # overridden below
            eval_dataset_path: null
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let args = try Self.parse(["--config", path, "--learning_rate", "2e-5"])
        #expect(args.maxSteps == -1 && args.saveSteps == -1 && args.betaImgWinVsNoImg == -0.1)
        #expect(args.fp16 && !args.fixVit && args.reportTo == [.tensorboard, .wandb] && args.learningRate == 2e-5)
        #expect(args.outputDir == "out" && args.datasetPath == "d.json" && args.evalDatasetPath == nil)

        try "max_steps: nan\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(Self.message(Self.required + ["--config", path]) == "\(path): line 1: max_steps: expected an integer, got 'nan'")
        try "lerning_rate: 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(Self.message(Self.required + ["--config", path]) == "\(path): line 1: lerning_rate: not a flag of svco train (see svco train --help)")
        #expect(Self.message(Self.required + ["--config", dir]) == "--config \(dir): is a folder, not a file")
        #expect(Self.message(Self.required + ["--config", dir + "/none.yaml"]) == "--config \(dir)/none.yaml: no such file")
    }

    // MARK: --deepspeed

    static func deepSpeed(_ json: String) throws -> String {
        let path = TrainerTests.folder("ds") + "/ds.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// "auto" takes the flags' values; the stage is read; explicit values must agree with the flags,
    /// as HF Trainer's DeepSpeed integration requires.
    @Test func deepSpeedFileIsReadAsHFTrainerReadsIt() throws {
        let auto = try Self.deepSpeed(#"{"fp16": {"enabled": "auto"}, "bf16": {"enabled": "auto"}, "gradient_clipping": "auto", "zero_optimization": {"stage": 2}}"#)
        let args = try Self.parse(Self.required + ["--deepspeed", auto, "--fp16", "--max-grad-norm", "0.5"])
        #expect(args.zeroStage == 2 && args.fp16 && !args.bf16 && args.maxGradNorm == 0.5)
        #expect(try Self.parse(Self.required + ["--deepspeed", auto, "--zero-stage", "2"]).zeroStage == 2)
        #expect(Self.message(Self.required + ["--deepspeed", auto, "--zero-stage", "3"])
            == "--zero-stage 3 contradicts --deepspeed \(auto) (zero_optimization.stage 2)")

        let explicit = try Self.deepSpeed(#"{"fp16": {"enabled": true}, "gradient_clipping": 2.0, "train_micro_batch_size_per_gpu": 4, "zero_optimization": {"stage": 1}}"#)
        #expect(Self.message(Self.required + ["--deepspeed", explicit, "--fp16", "--max-grad-norm", "2", "--per-device-train-batch-size", "4"]) == "no error")
        #expect(Self.message(Self.required + ["--deepspeed", explicit]) == "--deepspeed \(explicit): values that contradict the flags "
            + "(set them to \"auto\" or make them agree): ds fp16.enabled=true vs --fp16=false; ds gradient_clipping=2 vs --max-grad-norm=1; "
            + "ds train_micro_batch_size_per_gpu=4 vs --per-device-train-batch-size=1")

        let optimizer = try Self.deepSpeed(#"{"optimizer": {"type": "AdamW"}, "zero_optimization": {"stage": 3}}"#)
        #expect(Self.message(Self.required + ["--deepspeed", optimizer]).contains("the 'optimizer' section is not supported"))
        let badStage = try Self.deepSpeed(#"{"zero_optimization": {"stage": "auto"}}"#)
        #expect(Self.message(Self.required + ["--deepspeed", badStage]) == "--deepspeed \(badStage): zero_optimization.stage must be 0, 1, 2 or 3, not \"auto\"")
        let notJSON = try Self.deepSpeed("stage: 3")
        #expect(Self.message(Self.required + ["--deepspeed", notJSON]) == "--deepspeed \(notJSON): not a JSON object (a DeepSpeed configuration)")
    }

    /// `offload_optimizer.device` sets --offload-optimizer-device (LLaVA's zero3_offload.json has
    /// "cpu"); what svco does not do — parameter offload, NVMe — is refused, naming the field.
    @Test func deepSpeedOffloadIsReadOrRefused() throws {
        #expect(try Self.parse(Self.required).offloadOptimizerDevice == .none)
        #expect(try Self.parse(Self.required + ["--offload-optimizer-device", "cpu"]).offloadOptimizerDevice == .cpu)
        #expect(Self.message(Self.required + ["--offload-optimizer-device", "nvme"]).contains("one of none, cpu"))
        let cpu = try Self.deepSpeed(#"{"zero_optimization": {"stage": 3, "offload_optimizer": {"device": "cpu", "pin_memory": true}, "offload_param": {"device": "none"}}}"#)
        #expect(try Self.parse(Self.required + ["--deepspeed", cpu]).offloadOptimizerDevice == .cpu)
        #expect(Self.message(Self.required + ["--deepspeed", cpu, "--offload-optimizer-device", "none"])
            == "--offload-optimizer-device none contradicts --deepspeed \(cpu) (zero_optimization.offload_optimizer.device \"cpu\")")
        let none = try Self.deepSpeed(#"{"zero_optimization": {"stage": 2, "offload_optimizer": {"device": "none"}}}"#)
        #expect(try Self.parse(Self.required + ["--deepspeed", none]).offloadOptimizerDevice == .none)
        let nvme = try Self.deepSpeed(#"{"zero_optimization": {"stage": 3, "offload_optimizer": {"device": "nvme"}}}"#)
        #expect(Self.message(Self.required + ["--deepspeed", nvme]) == "--deepspeed \(nvme): zero_optimization.offload_optimizer.device "
            + "\"nvme\" is not supported: svco offloads AdamW's moments to \"cpu\" or keeps them on the device (\"none\")")
        let params = try Self.deepSpeed(#"{"zero_optimization": {"stage": 3, "offload_param": {"device": "cpu"}}}"#)
        #expect(Self.message(Self.required + ["--deepspeed", params]).hasPrefix(
            "--deepspeed \(params): zero_optimization.offload_param.device \"cpu\" is not supported"))
    }

    /// DeepSpeed's `train_batch_size` is the global batch: per device × world size × accumulation.
    @Test func deepSpeedTrainBatchSizeCountsTheRanks() throws {
        let global = try Self.deepSpeed(#"{"train_batch_size": 16, "zero_optimization": {"stage": 2}}"#)
        let (settings, _) = TrainingCommandLine.split(Self.required + ["--deepspeed", global, "--per-device-train-batch-size", "2",
                                                                        "--gradient-accumulation-steps", "2"])
        #expect(try TrainingCommandLine.arguments(from: settings, worldSize: 4).zeroStage == 2)
        do {
            _ = try TrainingCommandLine.arguments(from: settings, worldSize: 2)
            Issue.record("a train_batch_size of 16 with 2 ranks × 2 × 2 was accepted")
        } catch {
            #expect("\(error)".contains("ds train_batch_size=16 vs world size × --per-device-train-batch-size × --gradient-accumulation-steps=8"),
                    "\(error)")
        }
    }

    /// The objective is chosen by name in one place.
    @Test func lossByName() throws {
        var args = TrainingArguments()
        args.betas = [0.2, 0.1, 0.1, 0.1]
        #expect((LossKind.svco.make(args) as? SVCOLoss)?.betas == [0.2, 0.1, 0.1, 0.1])
        #expect((LossKind.dpo.make(args) as? DPOLoss)?.beta == 0.2)
        #expect((LossKind.mdpo.make(args) as? MDPOLoss)?.beta == 0.2)
        #expect(LossKind.sft.make(args) is SFTLoss && !LossKind.sft.make(args).usesReference)
        #expect(try Self.parse(Self.required + ["--loss", "mdpo"]).loss == .mdpo)
    }

    /// `--help` lists every flag once with its default, from the same declarations.
    @Test func helpListsEveryFlagWithItsDefault() {
        let help = TrainingFlags.helpText
        for flag in TrainingFlags.all {
            #expect(help.components(separatedBy: "  " + flag.displayName + " ").count == 2, "\(flag.displayName)")
        }
        #expect(help.contains("--learning-rate <number>  (default: 1e-06)"))
        #expect(help.contains("--lr-scheduler-type <constant|constant_with_warmup|linear|cosine>  (default: cosine)"))
        #expect(Set(TrainingFlags.all.flatMap(\.names)).count == TrainingFlags.all.flatMap(\.names).count, "no name twice")
    }
}
