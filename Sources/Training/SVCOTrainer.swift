#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Datasets
import Models
import NN
import Torch

/// What the trainer reports while it runs.
public enum TrainerEvent {
    case started(totalSteps: Int, trainable: Int, frozen: Int)
    /// A resumed run whose checkpoint is its last step: nothing left to train.
    case alreadyFinished(step: Int)
    case step(step: Int, totalSteps: Int, loss: Double, secondsPerStep: Double)
    case logged([String: Double])
    case evaluated([String: Double])
    case checkpointSaved(String)
}

/// The S-VCO trainer (a TRL-DPOTrainer-style loop): per micro-batch the six sequences run through the
/// policy and the frozen reference, the loss is divided by the accumulation count and
/// back-propagated; every `gradientAccumulationSteps` micro-batches the gradients are clipped and
/// AdamW steps with the scheduled learning rate.
public final class SVCOTrainer {
    public let args: TrainingArguments
    public let policy: any VisionLanguageModel
    let reference: (any VisionLanguageModel)?
    let builder: BatchBuilder
    /// The records trained and evaluated on (after the checks; `--drop-unscored-records` removes some).
    public let trainRecords: [MVCRecord]
    public let evalRecords: [MVCRecord]
    /// Records left out by `dropUnscoredRecords` (indices into the given training / evaluation sets).
    public let droppedTrainRecords: [DatasetPreflight.Unscored]
    public let droppedEvalRecords: [DatasetPreflight.Unscored]
    /// Distinct image files decoded before step 1.
    public let checkedImages: Int
    let loss: any PreferenceLoss
    public let optimizer: AdamW
    public let schedule: LearningRateSchedule
    /// Optimiser steps done and micro-batches consumed (the data position), for logging and resume.
    public internal(set) var globalStep = 0
    public internal(set) var microBatches = 0
    /// Optimiser steps skipped for inf/NaN gradients under `--fp16`. As in HF Trainer, a skipped
    /// step counts as a step but does not advance the learning-rate schedule.
    public internal(set) var skippedSteps = 0
    /// The dynamic loss scaler of `--fp16` (nil otherwise).
    public let scaler: GradScaler?
    let metricsLog: MetricsLog
    let tensorBoard: TensorBoardWriter?
    var savedCheckpoints: [String] = []
    /// The model folder training started from (config, tokenizer and processor files are copied from it).
    public let modelDirectory: String
    /// Reference log-probs computed before training (`--precompute-ref-log-probs`); used when there is
    /// no reference model.
    public var referenceTable: ReferenceLogProbTable?

    /// Checks the records (every image decodes; every scored span survives truncation) and the
    /// arguments before anything is trained, so a bad file stops the run now rather than hours in.
    public init(args: TrainingArguments, modelDirectory: String, policy: any VisionLanguageModel, reference: (any VisionLanguageModel)?,
                builder: BatchBuilder, train: [MVCRecord], eval: [MVCRecord], loss: any PreferenceLoss, resume: Bool) throws {
        guard !train.isEmpty else { throw TrainingError.invalidArguments("the training set is empty") }
        if let reference, reference.component(.visionTower) === policy.component(.visionTower), !args.fixVit {
            throw TrainingError.invalidArguments("the reference model shares the policy's vision tower, which only works with --fix-vit")
        }
        if args.fp16 && args.bf16 { throw TrainingError.invalidArguments("fp16 and bf16 cannot both be on") }
        if args.fp16 && policy.dtype != .float32 {
            // GradScaler refuses float16 gradients; HF's --fp16 keeps float32 master weights.
            throw TrainingError.invalidArguments("fp16 training needs the model in float32 (it autocasts to float16); it is \(policy.dtype)")
        }
        // (mDPO's corrupted-image sequence is cc's text, so cc's truncation covers it.)
        let kinds = loss.sequenceKinds
        let badImages = DatasetPreflight.badImages(train + eval)
        if !badImages.isEmpty {
            throw TrainingError.data("\(badImages.count) image file(s) of the training and evaluation records cannot be used "
                + "(record numbers count the training records first, then the evaluation ones):\n  "
                + DatasetPreflight.describe(badImages).joined(separator: "\n  "))
        }
        checkedImages = Set((train + eval).flatMap { $0.chosenImages + $0.rejectedImages }).count
        func scored(_ records: [MVCRecord], _ name: String) throws -> ([MVCRecord], [DatasetPreflight.Unscored]) {
            let unscored = try DatasetPreflight.unscoredRecords(records, collator: builder.collator, kinds: kinds).unscored
            guard !unscored.isEmpty else { return (records, []) }
            guard args.dropUnscoredRecords else {
                throw TrainingError.data("\(unscored.count) of \(records.count) \(name) records keep no response token after truncation to "
                    + "--model-max-length \(args.modelMaxLength), so they would train on nothing: "
                    + DatasetPreflight.describe(unscored) + ". Raise --model-max-length, shorten those records, "
                    + "or pass --drop-unscored-records to train without them.")
            }
            let dropped = Set(unscored.map(\.record))
            return (records.indices.filter { !dropped.contains($0) }.map { records[$0] }, unscored)
        }
        (trainRecords, droppedTrainRecords) = try scored(train, "training")
        (evalRecords, droppedEvalRecords) = try scored(eval, "evaluation")
        guard !trainRecords.isEmpty else {
            throw TrainingError.data("every training record was dropped by --drop-unscored-records: nothing is left to train on")
        }
        let total = args.totalSteps(records: trainRecords.count)
        guard total > 0 else {
            throw TrainingError.invalidArguments("--num-train-epochs \(args.numTrainEpochs.flagText) with --max-steps \(args.maxSteps) "
                + "gives no optimiser step: nothing would be trained")
        }
        self.args = args
        self.modelDirectory = modelDirectory
        self.policy = policy
        self.reference = reference
        self.builder = builder
        self.loss = loss
        scaler = args.fp16 ? GradScaler(device: policy.device) : nil
        policy.gradientCheckpointing = args.gradientCheckpointing
        if args.fixVit { policy.component(.visionTower).setTrainable(false) }
        if args.fixMultimodalProjector { policy.component(.projector).setTrainable(false) }
        reference?.setTrainable(false)
        optimizer = AdamW(parameters: policy.namedParameters(),
                          settings: .init(beta1: args.adamBeta1, beta2: args.adamBeta2, eps: args.adamEpsilon,
                                          weightDecay: args.weightDecay))
        schedule = LearningRateSchedule(kind: args.lrSchedulerType, baseRate: args.learningRate, totalSteps: total,
                                        warmupSteps: args.warmupSteps, warmupRatio: args.warmupRatio)
        do {
            try FileManager.default.createDirectory(atPath: args.outputDir, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.io(path: args.outputDir, reason: "cannot create the output folder")
        }
        Self.removeAbandonedCheckpoints(in: args.outputDir)
        metricsLog = try MetricsLog(path: args.outputDir + "/metrics.jsonl", append: resume)
        tensorBoard = args.writesTensorBoard ? try TensorBoardWriter(directory: args.outputDir + "/runs") : nil
    }

    var microBatchesPerEpoch: Int {
        (trainRecords.count + args.perDeviceTrainBatchSize - 1) / args.perDeviceTrainBatchSize
    }

    /// The record order of an epoch: a seeded permutation (a function of seed and epoch only, so a
    /// resumed run sees the same order), or the file order.
    func order(epoch: Int) -> [Int] {
        var indices = Array(trainRecords.indices)
        guard args.dataOrder == .shuffle, indices.count > 1 else { return indices }
        var rng = SplitMix64(seed: args.seed &+ UInt64(epoch) &* 0x9E37_79B9)
        for i in stride(from: indices.count - 1, to: 0, by: -1) { indices.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return indices
    }

    /// Runs the models' forward passes under autocast to float16 (`fp16`) or bfloat16 (`bf16`), as
    /// accelerate wraps the policy's and the reference's forward for HF Trainer's mixed precision;
    /// in the models' own dtype otherwise.
    func forwardPrecision<R>(_ body: () throws -> R) rethrows -> R {
        if args.fp16 { return try Autocast.run(device: policy.device, dtype: .float16, body) }
        if args.bf16 { return try Autocast.run(device: policy.device, dtype: .bfloat16, body) }
        return try body()
    }

    func logProbs(_ batch: SixSequenceBatch, corrupted: SixSequenceBatch? = nil) throws -> (SixSequenceLogProbs, SixSequenceLogProbs) {
        var pi = try policy.sixSequenceLogProbs(batch)
        var ref: SixSequenceLogProbs = try Autograd.noGrad {
            if let reference { return try reference.sixSequenceLogProbs(batch) }
            return .zeros(like: pi)
        }
        if let corrupted {
            pi.corruptedChosen = try policy.rowLogProbs(corrupted)
            ref.corruptedChosen = try Autograd.noGrad {
                try reference.map { try $0.rowLogProbs(corrupted) } ?? Tensor.zeros([corrupted.recordCount], device: policy.device)
            }
        }
        return (pi, ref)
    }

    /// mDPO's corrupted chosen sequences for a micro-batch, seeded by run seed and data position
    /// so that a resumed run crops the same windows.
    func corruptedBatch(_ records: [MVCRecord], position: Int) throws -> SixSequenceBatch? {
        guard loss.usesCorruptedImages else { return nil }
        return try builder.buildCorruptedChosen(records, seed: args.seed &* 1_000_003 &+ UInt64(bitPattern: Int64(position)))
    }

    /// Runs to `schedule.totalSteps` optimiser steps (or pauses after `stopAfterStep`, e.g. to
    /// checkpoint and resume in another process).
    public func train(stopAfterStep: Int? = nil, _ report: (TrainerEvent) -> Void = { _ in }) throws {
        let total = schedule.totalSteps
        let stop = min(total, stopAfterStep ?? total)
        if globalStep >= total {
            report(.alreadyFinished(step: globalStep))
            return
        }
        let trainable = optimizer.parameterNames.count
        report(.started(totalSteps: total, trainable: trainable, frozen: policy.namedParameters().count - trainable))
        var window: [[String: Tensor]] = []
        var stepLosses: [Tensor] = []
        var windowLoss = 0.0
        var windowSteps = 0
        var lastNorm = 0.0
        let clock = ContinuousClock()
        var stepStart = clock.now
        while globalStep < stop {
            let perEpoch = microBatchesPerEpoch
            let epoch = microBatches / perEpoch
            let index = microBatches % perEpoch
            let order = order(epoch: epoch)
            let slice = order[(index * args.perDeviceTrainBatchSize)..<min(order.count, (index + 1) * args.perDeviceTrainBatchSize)]
            let records = slice.map { trainRecords[$0] }
            let (pi, ref) = try forwardPrecision { try recordLogProbs(records, corrupted: try corruptedBatch(records, position: microBatches)) }
            let result = loss(policy: pi, reference: ref, mode: .train)
            let share = result.loss / Double(args.gradientAccumulationSteps)
            (scaler?.scaled(share) ?? share).backward()
            // Nothing is read back inside the step: losses and metrics stay on the device until the
            // optimiser step reads them in one transfer (StepReadout).
            window.append(result.metricTensors)
            stepLosses.append(result.loss.detach())
            microBatches += 1
            let groupEnds = (index + 1) % args.gradientAccumulationSteps == 0 || index == perEpoch - 1
            guard groupEnds else { continue }

            // With --fp16: unscale before clipping (grad_norm is of the true gradients), skip the update
            // when any gradient overflowed, and adjust the scale — GradScaler's unscale_/step/update.
            scaler?.unscale(optimizer.presentGradients())
            lastNorm = optimizer.clipGradients(maxNorm: args.maxGradNorm > 0 ? args.maxGradNorm : .infinity)
            let logging = args.logs(at: globalStep + 1, of: total)
            let readout = StepReadout.read(losses: stepLosses, metrics: logging ? window : [])
            stepLosses.removeAll()
            guard readout.losses.allSatisfy(\.isFinite) else {
                throw TrainingError.nonFiniteLoss(step: globalStep + 1, lastCheckpoint: savedCheckpoints.last)
            }
            let value = readout.losses.last ?? .nan
            windowLoss += readout.losses.reduce(0, +) / Double(args.gradientAccumulationSteps)
            if scaler?.foundInf ?? false {
                skippedSteps += 1
            } else {
                optimizer.step(lr: schedule.rate(step: globalStep - skippedSteps))
            }
            scaler?.update()
            optimizer.zeroGradients()
            globalStep += 1
            windowSteps += 1
            let elapsed = clock.now - stepStart
            stepStart = clock.now
            report(.step(step: globalStep, totalSteps: total, loss: value,
                         secondsPerStep: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))

            let epochEnded = microBatches % perEpoch == 0
            if logging {
                var line = averaged(readout.metrics, prefix: "train_")
                line["step"] = Double(globalStep)
                line["epoch"] = Double(microBatches) / Double(perEpoch)
                line["learning_rate"] = schedule.rate(step: globalStep - skippedSteps)
                line["grad_norm"] = lastNorm
                line["loss"] = windowLoss / Double(max(1, windowSteps))
                try log(line)
                report(.logged(line))
                window.removeAll()
                windowLoss = 0
                windowSteps = 0
            }
            if !evalRecords.isEmpty && args.evaluates(at: globalStep, of: total, epochEnded: epochEnded) {
                var line = try evaluate()
                line["step"] = Double(globalStep)
                line["epoch"] = Double(microBatches) / Double(perEpoch)
                try log(line)
                report(.evaluated(line))
            }
            if args.saves(at: globalStep, of: total, epochEnded: epochEnded) {
                report(.checkpointSaved(try saveCheckpoint()))
            }
        }
    }

    /// Appends a line to metrics.jsonl and TensorBoard (under HF's tags). A line that cannot be
    /// written stops training — after saving the current state, so nothing trained is lost.
    func log(_ line: [String: Double]) throws {
        do {
            try metricsLog.write(line)
            try tensorBoard?.write(step: globalStep, scalars: TensorBoardWriter.hfTags(line))
        } catch TrainingError.io(let path, let reason) {
            let saved: String?, saveError: String?
            do {
                (saved, saveError) = (try saveCheckpoint(), nil)
            } catch {
                (saved, saveError) = (nil, "\(error)")
            }
            throw TrainingError.logWrite(path: path, step: globalStep, reason: reason, saved: saved, saveError: saveError)
        }
    }

    /// Loss and metrics on the evaluation records (every term reported), with the `eval_` prefix.
    public func evaluate() throws -> [String: Double] {
        var results: [[String: Double]] = []
        var losses: [Double] = []
        try Autograd.noGrad {
            var start = 0
            while start < evalRecords.count {
                let end = min(evalRecords.count, start + args.perDeviceEvalBatchSize)
                let records = Array(evalRecords[start..<end])
                // Evaluation crops are fixed by position in the eval set, the same at every evaluation.
                let (pi, ref) = try forwardPrecision { try recordLogProbs(records, corrupted: try corruptedBatch(records, position: -1 - start)) }
                let result = loss(policy: pi, reference: ref, mode: .eval)
                results.append(result.metrics)
                losses.append(result.loss.item().doubleValue)
                start = end
            }
        }
        var line = averaged(results, prefix: "eval_")
        line["eval_loss"] = losses.reduce(0, +) / Double(max(1, losses.count))
        return line
    }

    func averaged(_ rows: [[String: Double]], prefix: String) -> [String: Double] {
        var sums: [String: Double] = [:]
        for row in rows { for (k, v) in row { sums[k, default: 0] += v } }
        var out: [String: Double] = [:]
        for (k, v) in sums { out[prefix + k] = v / Double(max(1, rows.count)) }
        return out
    }
}
