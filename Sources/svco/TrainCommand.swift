import ArgumentParser
import Datasets
import Distributed
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

    /// The carried flags read back (a `--no-<flag>` spelling names its boolean flag, as `split` read it).
    var settings: [FlagSetting] {
        carried.map { token in
            guard let equals = token.firstIndex(of: "=") else { return TrainingCommandLine.setting(spelling: token, value: nil) }
            return TrainingCommandLine.setting(spelling: String(token[..<equals]), value: String(token[token.index(after: equals)...]))
        }
    }

    /// The training arguments: config files, then flags, then the DeepSpeed file (its train_batch_size
    /// checked against `worldSize` ranks), then checks between flags.
    func arguments(worldSize: Int = 1) throws -> TrainingArguments {
        try TrainingCommandLine.arguments(from: settings, worldSize: worldSize)
    }

    mutating func validate() throws {
        do {
            // A malformed launch environment is reported when the run starts, naming the variable.
            _ = try arguments(worldSize: (try? LaunchEnvironment.current())??.worldSize ?? 1)
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        MemoryAdvice.set(MemoryAdvice.training)
        // Under torchrun, `svco launch`, Open MPI or SLURM this process is one rank of a data-parallel run.
        let launch = try LaunchEnvironment.current()
        let args = try arguments(worldSize: launch?.worldSize ?? 1)
        var device = try placement.apply()
        guard let launch else { return try train(args, device: device, group: nil) }
        device = try Self.rankDevice(device, launch)
        let group = try ProcessGroup.join(launch, device: device, timeout: .seconds(args.ddpTimeout))
        do {
            try train(args, device: device, group: group)
        } catch {
            // Every rank prints its own error: say which rank, as torchrun's logs do.
            let readable = ReadableError.wrap(error)
            throw CLIError("rank \(group.rank) of \(group.worldSize): " + ((readable as? LocalizedError)?.errorDescription ?? "\(readable)"))
        }
    }

    /// The device of this rank: `--device cuda` means cuda:LOCAL_RANK (torchrun's convention: one GPU
    /// per local rank); `cuda:N` is taken as given only with one rank on the node.
    static func rankDevice(_ device: Device, _ launch: LaunchEnvironment) throws -> Device {
        guard case .cuda(let index) = device else { return device }
        if index != 0 && launch.localWorldSize > 1 {
            throw CLIError("--device cuda:\(index) with \(launch.localWorldSize) ranks on this node: pass --device cuda, and each rank takes cuda:LOCAL_RANK")
        }
        let chosen = launch.localWorldSize > 1 ? launch.localRank : index
        guard chosen < Torch.cudaDeviceCount else {
            throw CLIError("local rank \(launch.localRank) needs cuda:\(chosen), but only \(Torch.cudaDeviceCount) CUDA device(s) are visible")
        }
        return .cuda(chosen)
    }

    /// The run itself; with `group`, this rank's part (rank 0 prints and writes, all train).
    func train(_ arguments: TrainingArguments, device: Device, group: ProcessGroup?) throws {
        var args = arguments
        let isMain = group?.isMain ?? true
        func say(_ line: String) { if isMain { print(line) } }
        while args.outputDir.count > 1 && args.outputDir.hasSuffix("/") { args.outputDir.removeLast() }
        // A Hub id is downloaded once per node (first local rank), then found in the cache by the others.
        if let group {
            var resolved: String?
            try SVCOTrainer.agree(group, "resolving \(args.modelNameOrPath)") {
                if group.localRank == 0 { resolved = try resolveModel(args.modelNameOrPath) }
            }
            args.modelNameOrPath = try resolved ?? resolveModel(args.modelNameOrPath)
        } else {
            args.modelNameOrPath = try resolveModel(args.modelNameOrPath)
        }
        Torch.manualSeed(args.seed)
        for note in Self.notes(args, device: device, group: group) { say(note) }
        if let tf32 = args.tf32 { Torch.allowTF32(tf32) }

        // float32 master weights in every mode: --fp16/--bf16 autocast the forward passes (HF Trainer).
        // Under ZeRO-3 the models are read on the CPU and reach the device sharded (the trainer moves them).
        let loadDevice = group != nil && args.zeroStage == 3 ? Device.cpu : device
        let policy = try ModelRegistry.load(directory: args.modelNameOrPath, dtype: .float32, device: loadDevice)
        let family = ModelInputs.family(of: policy)
        if let claimed = args.modelFamilyId, claimed != family {
            throw CLIError("--model-family-id \(claimed.rawValue) does not match \(args.modelNameOrPath), a \(policy.familyName) model")
        }
        let loss = args.loss.make(args)
        // With --fix-vit the policy's tower never changes, so the frozen reference uses it rather than
        // holding a second copy (304M parameters for LLaVA-1.5's CLIP-L). With precomputed reference
        // log-probs no reference model is held at all.
        let reference = args.referenceFree || !loss.usesReference || args.precomputeRefLogProbs ? nil
            : try ModelRegistry.load(directory: args.modelNameOrPath, dtype: .float32, device: loadDevice,
                                     sharingVisionTowerOf: args.fixVit ? policy : nil)
        let builder = try ModelInputs.batchBuilder(modelDirectory: args.modelNameOrPath, model: policy, maxLength: args.modelMaxLength)
        let train = try MVCDataset(file: args.datasetPath, imageRoot: args.imageRoot, allowOutsideRoot: args.allowOutsideRoot).records
        let eval = try args.evalDatasetPath.map {
            try MVCDataset(file: $0, imageRoot: args.imageRoot, allowOutsideRoot: args.allowOutsideRoot).records
        } ?? []
        var resumeFrom = args.resumeFromCheckpoint
        if resumeFrom == "latest" {
            // Rank 0's view decides, so that every rank resumes from the same step.
            var step = SVCOTrainer.latestCheckpoint(in: args.outputDir).flatMap { Int($0.split(separator: "-").last ?? "") } ?? -1
            if let group { step = Int(try group.broadcast([Double(step)])[0]) }
            guard step >= 0 else {
                throw CLIError("--resume-from-checkpoint latest: no checkpoint-<step> folder in \(args.outputDir)")
            }
            resumeFrom = args.outputDir + "/checkpoint-\(step)"
        }
        say("checking \(train.count) training and \(eval.count) evaluation records (images, truncation) …")
        let trainer = try SVCOTrainer(args: args, modelDirectory: args.modelNameOrPath, policy: policy, reference: reference,
                                      builder: builder, train: train, eval: eval, loss: loss, resume: resumeFrom != nil, group: group)
        for (dropped, name) in [(trainer.droppedTrainRecords, "training"), (trainer.droppedEvalRecords, "evaluation")] where !dropped.isEmpty {
            say("dropped \(dropped.count) \(name) records whose response --model-max-length \(args.modelMaxLength) cuts away: "
                + DatasetPreflight.describe(dropped))
        }
        for line in TrainReport.memoryArrangement(trainer, args: args, device: device) { say(line) }
        // Every rank checks; all stop together when one cannot fit its gradients.
        try SVCOTrainer.agree(group, "checking device memory") {
            guard let total = Torch.totalMemory(device) else { return }
            if let problem = MemoryPreflight.problem(gradientBytes: trainer.optimizer.gradientBytes, allocated: Torch.memoryAllocated(device),
                                                     total: total, device: "\(device)") {
                throw CLIError(problem + " " + MemoryAdvice.training)
            }
        }
        if args.precomputeRefLogProbs {
            // After the checks (a bad image stops the run before this pass) and before step 1: the
            // reference model is loaded only on a cache miss and freed before training allocates.
            trainer.referenceTable = try ReferenceCaching.precompute(args: args, loss: loss, builder: builder,
                                                                     records: trainer.trainRecords + trainer.evalRecords, device: device,
                                                                     group: group)
        }
        if let resumeFrom {
            try trainer.resume(from: resumeFrom)
            say("resumed from \(resumeFrom) at step \(trainer.globalStep)")
        }
        let progress = ProgressPrinter()
        try trainer.train { event in
            guard isMain else { return }
            progress.handle(event)
            // The shapes of step 1's scoring passes, once: what throughput and FLOP counts are made of.
            if case .step(let step, _, _, _) = event, !progress.describedWork, let plan = trainer.lastPlan {
                progress.describedWork = true
                print(ProgressPrinter.describe(plan, step: step))
            }
        }
        if device.isCUDA && isMain {
            say("peak CUDA memory allocated: \(format(Double(Torch.maxMemoryAllocated(device)) / 1_073_741_824, 2)) GiB (torch.cuda.max_memory_allocated)")
        }
        if let shards = trainer.optimizer.zero3 { for line in TrainReport.zero3(shards) { say(line) } }
        let fm = FileManager.default
        // Rank 0's files decide (it alone writes them); `train` ran to the same step on every rank.
        var finished = progress.finishedBefore && fm.fileExists(atPath: args.outputDir + "/config.json")
            && (fm.fileExists(atPath: args.outputDir + "/model.safetensors") || fm.fileExists(atPath: args.outputDir + "/model.safetensors.index.json"))
        if let group { finished = try group.broadcast([finished ? 1 : 0])[0] != 0 }
        if finished { return }  // a finished run whose final model is in place
        try trainer.saveFinalModel()
        say("saved the model to \(args.outputDir) (metrics: \(args.outputDir)/metrics.jsonl)")
    }

    /// One line each for flags that do less here than in the reference's stack, and the layout of a
    /// data-parallel run.
    static func notes(_ args: TrainingArguments, device: Device, group: ProcessGroup?) -> [String] {
        var notes: [String] = []
        if let name = args.runName { notes.append("run \(name)") }
        if args.reportTo.contains(.wandb) {
            notes.append("--report-to wandb: svco does not upload to Weights & Biases; the same scalars go to \(args.outputDir)/metrics.jsonl "
                + "and TensorBoard event files in \(args.outputDir)/runs, which W&B can import (wandb sync)")
        }
        if args.tf32 == true && !device.isCUDA { notes.append("--tf32: no effect on the CPU") }
        if args.offloadOptimizerDevice == .cpu && !device.isCUDA {
            notes.append("--offload-optimizer-device cpu: the model is on the CPU, where the moments are anyway; each step only copies "
                + "them through staging buffers (the same update)")
        }
        if let group {
            let global = group.worldSize * args.perDeviceTrainBatchSize * args.gradientAccumulationSteps
            notes.append("data parallel: \(group.worldSize) ranks (\(group.backend.rawValue)), ZeRO stage \(args.zeroStage), "
                + "global batch \(global) = \(group.worldSize) ranks × \(args.perDeviceTrainBatchSize) per device × \(args.gradientAccumulationSteps) accumulation")
        } else if args.zeroStage > 0 {
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
