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

/// `svco train`: S-VCO finetuning. Its flags are `TrainingFlags.all` (one declaration each), read as
/// HF's argument parser reads the reference's run script; only the device options shared with the
/// other commands go through ArgumentParser directly.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Finetune a LLaVA model with S-VCO on MVC-format pairs.",
        usage: "svco train --model-name-or-path DIR --dataset-path FILE --output-dir DIR [flags]\n"
            + "       svco train --config run.yaml [flags]",
        discussion: TrainingFlags.helpText)

    /// The training flags as written, carried here by `carry(_:)` (each `SPELLING` or `SPELLING=VALUE`).
    @Option(name: .customLong(carrierFlag), parsing: .unconditionalSingleValue, help: .private)
    var carried: [String] = []

    @OptionGroup var placement: DeviceOptions

    static let carrierFlag = "svco-training-flag"

    /// Rewrites `train`'s arguments before ArgumentParser sees them: every training flag (any
    /// spelling, with its value even when that is `-1` or `True`) and `--config` travel as
    /// `--svco-training-flag SPELLING=VALUE`; everything else (`--device`, `--help`, unknown flags)
    /// is left for ArgumentParser.
    static func carry(_ argv: [String]) -> [String] {
        let (settings, rest) = TrainingCommandLine.split(argv)
        return settings.flatMap { ["--" + carrierFlag, $0.spelling + ($0.value.map { "=" + $0 } ?? "")] } + rest
    }

    var settings: [FlagSetting] {
        carried.map { token in
            guard let equals = token.firstIndex(of: "=") else { return FlagSetting(spelling: token, value: nil) }
            return FlagSetting(spelling: String(token[..<equals]), value: String(token[token.index(after: equals)...]))
        }
    }

    /// The training arguments: config files, then flags, then the DeepSpeed file, then checks between flags.
    func arguments() throws -> TrainingArguments { try TrainingCommandLine.arguments(from: settings) }

    mutating func validate() throws {
        do {
            _ = try arguments()
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        var args = try arguments()
        while args.outputDir.count > 1 && args.outputDir.hasSuffix("/") { args.outputDir.removeLast() }
        let device = try placement.apply()
        args.modelNameOrPath = try resolveModel(args.modelNameOrPath)
        Torch.manualSeed(args.seed)
        for note in Self.notes(args, device: device) { print(note) }
        if let tf32 = args.tf32 { Torch.allowTF32(tf32) }

        // float32 master weights in every mode: --fp16/--bf16 autocast the forward passes (HF Trainer).
        let policy = try ModelRegistry.load(directory: args.modelNameOrPath, dtype: .float32, device: device)
        let family = ModelInputs.family(of: policy)
        if let claimed = args.modelFamilyId, claimed != family {
            throw CLIError("--model-family-id \(claimed.rawValue) does not match \(args.modelNameOrPath), a \(policy.familyName) model")
        }
        let loss = args.loss.make(args)
        // With --fix-vit the policy's tower never changes, so the frozen reference uses it rather than
        // holding a second copy (304M parameters for LLaVA-1.5's CLIP-L). With precomputed reference
        // log-probs no reference model is held at all.
        let reference = args.referenceFree || !loss.usesReference || args.precomputeRefLogProbs ? nil
            : try ModelRegistry.load(directory: args.modelNameOrPath, dtype: .float32, device: device,
                                     sharingVisionTowerOf: args.fixVit ? policy : nil)
        let builder = try ModelInputs.batchBuilder(modelDirectory: args.modelNameOrPath, model: policy, maxLength: args.modelMaxLength)
        let train = try MVCDataset(file: args.datasetPath, imageRoot: args.imageRoot, allowOutsideRoot: args.allowOutsideRoot).records
        let eval = try args.evalDatasetPath.map {
            try MVCDataset(file: $0, imageRoot: args.imageRoot, allowOutsideRoot: args.allowOutsideRoot).records
        } ?? []
        var resumeFrom = args.resumeFromCheckpoint
        if resumeFrom == "latest" {
            guard let latest = SVCOTrainer.latestCheckpoint(in: args.outputDir) else {
                throw CLIError("--resume-from-checkpoint latest: no checkpoint-<step> folder in \(args.outputDir)")
            }
            resumeFrom = latest
        }
        print("checking \(train.count) training and \(eval.count) evaluation records (images, truncation) …")
        let trainer = try SVCOTrainer(args: args, modelDirectory: args.modelNameOrPath, policy: policy, reference: reference,
                                      builder: builder, train: train, eval: eval, loss: loss, resume: resumeFrom != nil)
        for (dropped, name) in [(trainer.droppedTrainRecords, "training"), (trainer.droppedEvalRecords, "evaluation")] where !dropped.isEmpty {
            print("dropped \(dropped.count) \(name) records whose response --model-max-length \(args.modelMaxLength) cuts away: "
                + DatasetPreflight.describe(dropped))
        }
        if args.precomputeRefLogProbs {
            // After the checks (a bad image stops the run before this pass) and before step 1: the
            // reference model is loaded only on a cache miss and freed before training allocates.
            trainer.referenceTable = try ReferenceCaching.precompute(args: args, loss: loss, builder: builder,
                                                                     records: trainer.trainRecords + trainer.evalRecords, device: device)
        }
        if let resumeFrom {
            try trainer.resume(from: resumeFrom)
            print("resumed from \(resumeFrom) at step \(trainer.globalStep)")
        }
        let progress = ProgressPrinter()
        try trainer.train { event in progress.handle(event) }
        let fm = FileManager.default
        if progress.finishedBefore && fm.fileExists(atPath: args.outputDir + "/config.json")
            && (fm.fileExists(atPath: args.outputDir + "/model.safetensors") || fm.fileExists(atPath: args.outputDir + "/model.safetensors.index.json")) {
            return  // a finished run whose final model is in place
        }
        try trainer.saveFinalModel()
        print("saved the model to \(args.outputDir) (metrics: \(args.outputDir)/metrics.jsonl)")
    }

    /// One line each for flags that do less here than in the reference's stack.
    static func notes(_ args: TrainingArguments, device: Device) -> [String] {
        var notes: [String] = []
        if let name = args.runName { notes.append("run \(name)") }
        if args.reportTo.contains(.wandb) {
            notes.append("--report-to wandb: svco does not upload to Weights & Biases; the same scalars go to \(args.outputDir)/metrics.jsonl "
                + "and TensorBoard event files in \(args.outputDir)/runs, which W&B can import (wandb sync)")
        }
        if args.tf32 == true && !device.isCUDA { notes.append("--tf32: no effect on the CPU") }
        if args.zeroStage > 0 {
            notes.append("ZeRO stage \(args.zeroStage): sharding needs several ranks; on one rank this trains exactly as stage 0")
        }
        return notes
    }
}

/// Builds a model's batch builder from its folder: tokenizer (LLaVA-1.5 with add_eos_token, as the
/// reference), the folder's chat template when it marks `{% generation %}`, else svco's training
/// template for the family, and the folder's image processor.
enum ModelInputs {
    /// The reference's model family of a loaded model (by its language model).
    static func family(of model: any VisionLanguageModel) -> SixSequenceCollator.Family {
        model.config.textConfig.family == .llama ? .llava15 : .interleave
    }

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
