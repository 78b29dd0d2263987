import ArgumentParser
import Datasets
import Images
import Models
import Tokenizers
import Torch
import Training
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco train`: S-VCO finetuning, flags after the reference's run script (SVCO-SPEC §5 defaults).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Finetune a LLaVA model with S-VCO on MVC-format pairs.",
        discussion: "--config FILE.yaml reads flags from a flat YAML file with their snake_case names (learning_rate: 1.0e-6); flags on the command line override it.")

    @Option(help: "The model folder to start from (HF layout).") var modelNameOrPath: String
    @Option(help: "Training records (MVC JSON).") var datasetPath: String
    @Option(help: "Evaluation records (MVC JSON).") var evalDatasetPath: String?
    @Option(help: "Folder for checkpoints, metrics.jsonl and the final model.") var outputDir: String
    @Option(help: "Folder relative image paths resolve against (default: each dataset file's folder).") var imageRoot: String?
    @Flag(help: "Allow image paths that lead outside the image root.") var allowOutsideRoot = false
    @Option(help: "Objective: svco, dpo or mdpo (chosen image; β = --beta-img-win-vs-no-img), or sft (matched pairs).") var loss = "svco"
    @Option(help: "β of −log σ(β Δ(cc, nc)); ≤ 0 switches the term off.") var betaImgWinVsNoImg = 0.1
    @Option(help: "β of −log σ(β Δ(nc, rc)).") var betaNoImgVsImgLose = 0.1
    @Option(help: "β of −log σ(β Δ(rr, nr)).") var betaImgLoseVsNoImg = 0.1
    @Option(help: "β of −log σ(β Δ(nr, cr)).") var betaNoImgVsImgWin = 0.1
    @Option var learningRate = 1e-6
    @Option var weightDecay = 0.02
    @Option var adamBeta1 = 0.9
    @Option var adamBeta2 = 0.95
    @Option var adamEpsilon = 1e-8
    @Option(help: "Global gradient-norm clip (0 = off).") var maxGradNorm = 1.0
    @Option(help: "constant, constant_with_warmup, linear or cosine.") var lrSchedulerType = "cosine"
    @Option var warmupRatio = 0.05
    @Option var warmupSteps = 0
    @Option var numTrainEpochs = 1.0
    @Option(help: "Optimiser steps (overrides epochs when > 0).") var maxSteps = -1
    @Option var perDeviceTrainBatchSize = 1
    @Option var perDeviceEvalBatchSize = 1
    @Option var gradientAccumulationSteps = 4
    @Option var modelMaxLength = 128
    @Option var loggingSteps = 1
    @Option var evalSteps = 31
    @Option var saveSteps = 31
    @Option var saveTotalLimit: Int?
    @Option var seed: UInt64 = 42
    @Option(help: "shuffle or sequential.") var dataOrder = "shuffle"
    @Option(help: "Freeze the vision tower.") var fixVit = true
    @Option(help: "Freeze the projector.") var fixMultimodalProjector = false
    @Flag(help: "Mixed precision as HF Trainer's --bf16: float32 weights, bfloat16 autocast.") var bf16 = false
    @Flag(help: "Mixed precision as HF Trainer's --fp16: float32 weights, float16 autocast, dynamic loss scaling.") var fp16 = false
    @Flag(help: "Recompute each layer's activations in the backward pass instead of keeping them (less memory, ~1/3 more compute).")
    var gradientCheckpointing = false
    @Flag(help: "Use a zero reference (no frozen reference model).") var referenceFree = false
    @Flag(help: "Run every sequence in its own row instead of packing the pairs that share an image and prompt into one (same numbers, about twice the work; for comparison).")
    var noPrefixSharing = false
    @Flag(help: "Compute the reference model's log-probs of all training and evaluation records once before training (cached, see --ref-log-probs-cache); training then never loads the reference model.")
    var precomputeRefLogProbs = false
    @Option(help: "The reference log-prob cache of --precompute-ref-log-probs (default: OUTPUT_DIR/reference_logps.bin); reused when its key (reference weights, tokenizer, template, max length, image processor, precision) matches.")
    var refLogProbsCache: String?
    @Option(help: "A checkpoint folder, or 'latest' (the newest in --output-dir).") var resumeFromCheckpoint: String?
    @Option(help: "cpu, cuda or cuda:N.") var device = "cpu"
    @Option(help: "CPU threads for libtorch.") var threads: Int?

    func validate() throws {
        guard ["svco", "dpo", "mdpo", "sft"].contains(loss) else { throw ValidationError("--loss \(loss) is not one of svco, dpo, mdpo, sft") }
        if fp16 && bf16 { throw ValidationError("--fp16 and --bf16 exclude each other: choose one precision") }
        guard LearningRateSchedule.Kind(rawValue: lrSchedulerType) != nil else {
            throw ValidationError("--lr-scheduler-type '\(lrSchedulerType)' is not one of constant, constant_with_warmup, linear, cosine")
        }
        guard TrainingArguments.DataOrder(rawValue: dataOrder) != nil else { throw ValidationError("--data-order must be shuffle or sequential") }
        guard [betaImgWinVsNoImg, betaNoImgVsImgLose, betaImgLoseVsNoImg, betaNoImgVsImgWin].contains(where: { $0 > 0 }) else {
            throw ValidationError("every beta is <= 0: at least one S-VCO term must be on")
        }
        for (v, name) in [(perDeviceTrainBatchSize, "--per-device-train-batch-size"), (perDeviceEvalBatchSize, "--per-device-eval-batch-size"),
                          (gradientAccumulationSteps, "--gradient-accumulation-steps"), (modelMaxLength, "--model-max-length")] where v < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        if learningRate < 0 || weightDecay < 0 { throw ValidationError("--learning-rate and --weight-decay must not be negative") }
        guard Device(name: device) != nil else { throw ValidationError("--device '\(device)' is not cpu, cuda or cuda:N") }
        if precomputeRefLogProbs && (referenceFree || loss == "sft") {
            throw ValidationError("--precompute-ref-log-probs: --loss \(loss)\(referenceFree ? " with --reference-free" : "") uses no reference model")
        }
        if precomputeRefLogProbs && loss == "mdpo" {
            throw ValidationError("--precompute-ref-log-probs does not cover mDPO's corrupted-image sequences (their crops depend on the step); use it with svco or dpo")
        }
        if refLogProbsCache != nil && !precomputeRefLogProbs { throw ValidationError("--ref-log-probs-cache needs --precompute-ref-log-probs") }
    }

    var arguments: TrainingArguments {
        var a = TrainingArguments()
        a.outputDir = outputDir
        a.betas = [betaImgWinVsNoImg, betaNoImgVsImgLose, betaImgLoseVsNoImg, betaNoImgVsImgWin]
        a.referenceFree = referenceFree
        a.learningRate = learningRate
        a.weightDecay = weightDecay
        a.adamBeta1 = adamBeta1
        a.adamBeta2 = adamBeta2
        a.adamEpsilon = adamEpsilon
        a.maxGradNorm = maxGradNorm
        a.lrSchedulerType = LearningRateSchedule.Kind(rawValue: lrSchedulerType) ?? .cosine
        a.warmupRatio = warmupRatio
        a.warmupSteps = warmupSteps
        a.numTrainEpochs = numTrainEpochs
        a.maxSteps = maxSteps
        a.perDeviceTrainBatchSize = perDeviceTrainBatchSize
        a.perDeviceEvalBatchSize = perDeviceEvalBatchSize
        a.gradientAccumulationSteps = gradientAccumulationSteps
        a.modelMaxLength = modelMaxLength
        a.loggingSteps = loggingSteps
        a.evalSteps = evalSteps
        a.saveSteps = saveSteps
        a.saveTotalLimit = saveTotalLimit
        a.seed = seed
        a.dataOrder = TrainingArguments.DataOrder(rawValue: dataOrder) ?? .shuffle
        a.fixVit = fixVit
        a.fixMultimodalProjector = fixMultimodalProjector
        a.bf16 = bf16
        a.fp16 = fp16
        a.gradientCheckpointing = gradientCheckpointing
        a.scoringLevers.sharePrefixes = !noPrefixSharing
        return a
    }

    var objective: any PreferenceLoss {
        switch loss {
        case "dpo": DPOLoss(beta: betaImgWinVsNoImg)
        case "mdpo": MDPOLoss(beta: betaImgWinVsNoImg)
        case "sft": SFTLoss()
        default: SVCOLoss(betas: arguments.betas)
        }
    }

    func run() throws {
        if let threads { Torch.threads = threads }
        Torch.manualSeed(seed)
        let args = arguments
        let dev = Device(name: device) ?? .cpu
        // float32 master weights in every mode: --fp16/--bf16 autocast the forward passes (HF Trainer).
        let dtype: DType? = .float32
        let train = try MVCDataset(file: datasetPath, imageRoot: imageRoot, allowOutsideRoot: allowOutsideRoot).records
        let eval = try evalDatasetPath.map { try MVCDataset(file: $0, imageRoot: imageRoot, allowOutsideRoot: allowOutsideRoot).records } ?? []
        // Before the policy is loaded, so that the reference model (loaded only on a cache miss) is gone
        // again before training allocates.
        let referenceTable = precomputeRefLogProbs
            ? try ReferenceCaching.precompute(command: self, records: train + eval, device: dev) : nil
        let policy = try ModelRegistry.load(directory: modelNameOrPath, dtype: dtype, device: dev)
        // With --fix-vit the policy's tower never changes, so the frozen reference uses it rather than
        // holding a second copy (304M parameters for LLaVA-1.5's CLIP-L).
        let reference = (referenceFree || loss == "sft" || precomputeRefLogProbs) ? nil
            : try ModelRegistry.load(directory: modelNameOrPath, dtype: dtype, device: dev, sharingVisionTowerOf: fixVit ? policy : nil)
        let builder = try ModelInputs.batchBuilder(modelDirectory: modelNameOrPath, model: policy, maxLength: modelMaxLength)
        let resumeFrom = resumeFromCheckpoint.map { $0 == "latest" ? SVCOTrainer.latestCheckpoint(in: outputDir) : $0 } ?? nil
        if resumeFromCheckpoint == "latest" && resumeFrom == nil {
            throw CLIError("--resume-from-checkpoint latest: no checkpoint-<step> folder in \(outputDir)")
        }
        let trainer = try SVCOTrainer(args: args, modelDirectory: modelNameOrPath, policy: policy, reference: reference,
                                      builder: builder, train: train, eval: eval,
                                      loss: objective,
                                      resume: resumeFrom != nil)
        trainer.referenceTable = referenceTable
        if let resumeFrom {
            try trainer.resume(from: resumeFrom)
            print("resumed from \(resumeFrom) at step \(trainer.globalStep)")
        }
        let progress = ProgressPrinter()
        try trainer.train { event in progress.handle(event) }
        try trainer.saveFinalModel()
        print("saved the model to \(outputDir) (metrics: \(outputDir)/metrics.jsonl)")
    }
}

/// Builds a model's batch builder from its folder: tokenizer (LLaVA-1.5 with add_eos_token, as the
/// reference), the folder's chat template when it marks `{% generation %}`, else svco's training
/// template for the family, and the folder's image processor.
enum ModelInputs {
    static func batchBuilder(modelDirectory: String, model: any VisionLanguageModel, maxLength: Int) throws -> BatchBuilder {
        try batchBuilder(modelDirectory: modelDirectory, config: model.config, maxLength: maxLength)
    }

    static func batchBuilder(modelDirectory: String, config: any VisionLanguageConfig, maxLength: Int) throws -> BatchBuilder {
        let family: SixSequenceCollator.Family = config.textConfig.family == .llama ? .llava15 : .interleave
        let tokenizer = try Tokenizer(directory: modelDirectory, addEOS: family == .llava15 ? true : nil)
        var template = try SixSequenceCollator.svcoTrainingTemplate(for: family)
        if let own = try? ChatTemplate.load(modelDirectory: URL(fileURLWithPath: modelDirectory)), own.source.contains("generation") && own.source.contains("endgeneration") {
            template = own
        }
        guard let imageToken = tokenizer.idToToken(config.imageTokenIndex) else {
            throw CLIError("\(modelDirectory): the tokenizer has no token with the config's image_token_index \(config.imageTokenIndex)")
        }
        let collator = try SixSequenceCollator(tokenizer: tokenizer, template: template, family: family,
                                               imageToken: imageToken, maxLength: maxLength)
        let processor = try ImageProcessors.load(directory: modelDirectory)
        let pad = tokenizer.padTokenID ?? config.textConfig.padTokenId ?? 0
        return BatchBuilder(collator: collator, processor: processor, config: config, padId: pad)
    }
}

/// One line per step with loss, rate and ETA; metrics lines as they are logged.
final class ProgressPrinter {
    var total = 0
    var recentSeconds: [Double] = []

    func handle(_ event: TrainerEvent) {
        switch event {
        case .started(let total, let trainable, let frozen):
            self.total = total
            print("training for \(total) optimiser steps (\(trainable) trainable parameter tensors, \(frozen) frozen)")
        case .step(let step, let total, let loss, let seconds):
            recentSeconds.append(seconds)
            if recentSeconds.count > 10 { recentSeconds.removeFirst() }
            let mean = recentSeconds.reduce(0, +) / Double(recentSeconds.count)
            let eta = Int(mean * Double(total - step))
            print("step \(step)/\(total)  loss \(format(loss, 4))  \(format(mean, 2)) s/step  ETA \(eta / 60)m\(eta % 60)s")
        case .logged:
            break
        case .evaluated(let metrics):
            // S-VCO's four reward accuracies, or DPO's single one; SFT has none.
            let keys = ["img_win_vs_no_img", "no_img_vs_img_lose", "img_lose_vs_no_img", "no_img_vs_img_win"].map { "eval_reward_acc/\($0)" }
                + ["eval_rewards/accuracies"]
            let acc = keys.compactMap { metrics[$0] }.map { format($0, 2) }.joined(separator: " ")
            print("  eval loss \(format(metrics["eval_loss"] ?? .nan, 4))" + (acc.isEmpty ? "" : "  reward accuracies \(acc)"))
        case .checkpointSaved(let path):
            print("  saved \(path)")
        }
    }
}

func format(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "nan" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (x * scale).rounded() / scale
    var s = "\(r)"
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    }
    return s
}
