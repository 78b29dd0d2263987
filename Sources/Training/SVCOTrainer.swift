#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Datasets
import Distributed
import Models
import NN
import Torch
#if canImport(Glibc)
import Glibc
#endif

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
///
/// With a process group the loop runs data parallel (HF Trainer under torchrun): each rank reads its
/// share of every global micro-batch (`DistributedSampler`'s striding over the epoch's order), the
/// gradients are combined once per optimiser step (ZeRO stage `args.zeroStage`, see
/// `TrainerOptimizer`), losses and metrics are averaged over the ranks, and rank 0 alone writes
/// metrics.jsonl, TensorBoard files and the model, with agreement steps around every write so that no
/// rank reads a half-written folder or waits for a rank that failed.
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
    public let optimizer: TrainerOptimizer
    public let schedule: LearningRateSchedule
    /// The ranks of a data-parallel run (nil: one process).
    public let group: ProcessGroup?
    /// Which training records each rank reads (the identity in one process).
    let trainSampler: DistributedSampler
    /// Rank 0's process id: names the temporary folder every rank writes a checkpoint into.
    let writerPID: Int
    /// Optimiser steps done and micro-batches consumed (the data position), for logging and resume.
    public internal(set) var globalStep = 0
    public internal(set) var microBatches = 0
    /// Optimiser steps skipped for inf/NaN gradients under `--fp16`. As in HF Trainer, a skipped
    /// step counts as a step but does not advance the learning-rate schedule.
    public internal(set) var skippedSteps = 0
    /// The dynamic loss scaler of `--fp16` (nil otherwise).
    public let scaler: GradScaler?
    /// Written by rank 0 only (nil on the other ranks).
    let metricsLog: MetricsLog?
    let tensorBoard: TensorBoardWriter?
    var savedCheckpoints: [String] = []
    /// The model folder training started from (config, tokenizer and processor files are copied from it).
    public let modelDirectory: String
    /// Reference log-probs computed before training (`--precompute-ref-log-probs`); used when there is
    /// no reference model.
    public var referenceTable: ReferenceLogProbTable?
    /// How many of the reference model's values are held in the autocast dtype (linear layers' weights
    /// and biases under `--bf16`/`--fp16`; 0 otherwise).
    public private(set) var referenceValuesInAutocastDType = 0
    /// The packed forwards of the last micro-batch scored (rows × width, image positions, scored
    /// tokens): the work a step does, for reports of throughput and FLOPs.
    public internal(set) var lastPlan: PackedBatchPlan?

    /// Checks the records (every image decodes; every scored span survives truncation) and the
    /// arguments before anything is trained, so a bad file stops the run now rather than hours in.
    /// With `group`, every rank of the run must make this call (it agrees on rank 0's process id).
    public init(args: TrainingArguments, modelDirectory: String, policy: any VisionLanguageModel, reference: (any VisionLanguageModel)?,
                builder: BatchBuilder, train: [MVCRecord], eval: [MVCRecord], loss: any PreferenceLoss, resume: Bool,
                group: ProcessGroup? = nil) throws {
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
        // HF Trainer: optimiser steps per epoch from each rank's dataloader, i.e. from the global batch
        // (per-device batch × world size × accumulation).
        let sampler = DistributedSampler(count: trainRecords.count, worldSize: group?.worldSize ?? 1, rank: group?.rank ?? 0, shuffle: false)
        let total = args.totalSteps(records: sampler.samplesPerRank)
        guard total > 0 else {
            throw TrainingError.invalidArguments("--num-train-epochs \(args.numTrainEpochs.flagText) with --max-steps \(args.maxSteps) "
                + "gives no optimiser step: nothing would be trained")
        }
        // One process trains every stage as stage 0 (nothing to shard over).
        let stage = group == nil ? ZeroStage.stage0 : try ZeroStage(number: args.zeroStage, source: "--zero-stage")
        self.args = args
        self.group = group
        trainSampler = sampler
        self.modelDirectory = modelDirectory
        self.policy = policy
        self.reference = reference
        self.builder = builder
        self.loss = loss
        // ZeRO-3 gathers a trained block again in the backward pass through checkpointing's recomputation.
        policy.gradientCheckpointing = args.gradientCheckpointing || (group != nil && stage == .stage3)
        if args.fixVit { policy.component(.visionTower).setTrainable(false) }
        if args.fixMultimodalProjector { policy.component(.projector).setTrainable(false) }
        if let reference {
            // Before ZeRO-3 shards it: its frozen shards keep the dtype held here.
            referenceValuesInAutocastDType = Self.freeze(reference: reference, args: args, sharingWith: policy)
        }
        // (Under ZeRO-3 this shards both models and moves them to the group's device.)
        optimizer = TrainerOptimizer(model: policy, frozen: reference.map { [$0] } ?? [],
                                     settings: .init(beta1: args.adamBeta1, beta2: args.adamBeta2, eps: args.adamEpsilon,
                                                     weightDecay: args.weightDecay, offloadMoments: args.offloadOptimizerDevice == .cpu),
                                     group: group, stage: stage, autocastDType: args.autocastDType)
        scaler = args.fp16 ? GradScaler(device: policy.device) : nil
        schedule = LearningRateSchedule(kind: args.lrSchedulerType, baseRate: args.learningRate, totalSteps: total,
                                        warmupSteps: args.warmupSteps, warmupRatio: args.warmupRatio)
        let isMain = (group?.rank ?? 0) == 0
        writerPID = try Int(group?.broadcast([Double(getpid())]).first ?? Double(getpid()))
        var files: (MetricsLog?, TensorBoardWriter?) = (nil, nil)
        try Self.agree(group, "creating \(args.outputDir)") {
            guard isMain else { return }
            do {
                try FileManager.default.createDirectory(atPath: args.outputDir, withIntermediateDirectories: true)
            } catch {
                throw TrainingError.io(path: args.outputDir, reason: "cannot create the output folder")
            }
            Self.removeAbandonedCheckpoints(in: args.outputDir)
            files = (try MetricsLog(path: args.outputDir + "/metrics.jsonl", append: resume),
                     args.writesTensorBoard ? try TensorBoardWriter(directory: args.outputDir + "/runs") : nil)
        }
        (metricsLog, tensorBoard) = files
    }

    /// This rank (0 in one process) and the number of ranks.
    public var rank: Int { group?.rank ?? 0 }
    public var worldSize: Int { group?.worldSize ?? 1 }
    /// Rank 0 writes every file of the run.
    public var isMain: Bool { rank == 0 }

    /// Runs `body` on every rank, then lets every rank know whether it failed anywhere: the rank that
    /// failed rethrows its own error, the others throw one naming that rank and `what` it was doing. A
    /// rank that fails alone therefore never leaves the others waiting in the next collective.
    public static func agree(_ group: ProcessGroup?, _ what: @autoclosure () -> String, _ body: () throws -> Void) throws {
        var failure: Error?
        do { try body() } catch { failure = error }
        if let group, let failed = try group.failedRank(failure != nil), failure == nil {
            throw TrainingError.otherRank(rank: failed, what: what())
        }
        if let failure { throw failure }
    }

    func agree(_ what: @autoclosure () -> String, _ body: () throws -> Void) throws { try Self.agree(group, what(), body) }

    /// Micro-batches per epoch on each rank (HF: the length of a rank's dataloader).
    var microBatchesPerEpoch: Int {
        (trainSampler.samplesPerRank + args.perDeviceTrainBatchSize - 1) / args.perDeviceTrainBatchSize
    }

    /// This rank's records of an epoch, in order: torch's `DistributedSampler` padding (the head of the
    /// order repeated up to a multiple of the world size) and striding (positions rank, rank + W, …)
    /// applied to the epoch's global `order(epoch:)`. Micro-batch k of every rank then covers global
    /// positions [k·b·W, (k+1)·b·W): W ranks with batch b read exactly what one process with batch W·b
    /// reads. In one process this is `order(epoch:)` itself.
    func localOrder(epoch: Int) -> [Int] { trainSampler.slice(of: order(epoch: epoch)) }

    /// The global record order of an epoch: a seeded permutation (a function of seed and epoch only, so
    /// a resumed run sees the same order, at any world size), or the file order.
    func order(epoch: Int) -> [Int] {
        var indices = Array(trainRecords.indices)
        guard args.dataOrder == .shuffle, indices.count > 1 else { return indices }
        var rng = SplitMix64(seed: args.seed &+ UInt64(epoch) &* 0x9E37_79B9)
        for i in stride(from: indices.count - 1, to: 0, by: -1) { indices.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return indices
    }

    /// Freezes a reference model. Under `args`' autocast it only ever runs autocast, which rounds its
    /// linear layers' weights to the autocast dtype before each matmul: held rounded already, they give
    /// bitwise the same log-probs in half the memory (parameters shared with `policy` stay as they
    /// are). Returns how many values are held so; `args` nil keeps every weight's dtype.
    @discardableResult
    public static func freeze(reference: any VisionLanguageModel, args: TrainingArguments?, sharingWith policy: (any VisionLanguageModel)? = nil) -> Int {
        reference.setTrainable(false)
        guard let dtype = args?.autocastDType else { return 0 }
        let shared = Set(policy?.namedParameters().map { ObjectIdentifier($0.parameter) } ?? [])
        return reference.holdLinearWeights(in: dtype, sparing: shared)
    }

    /// Runs the models' forward passes under autocast to float16 (`fp16`) or bfloat16 (`bf16`), as
    /// accelerate wraps the policy's and the reference's forward for HF Trainer's mixed precision;
    /// in the models' own dtype otherwise.
    func forwardPrecision<R>(_ body: () throws -> R) rethrows -> R {
        guard let dtype = args.autocastDType else { return try body() }
        return try Autocast.run(device: policy.device, dtype: dtype, body)
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
        // One all-reduce (average) of the step's losses and metric window: every rank reads global values.
        let reduce: ((Tensor) throws -> Void)? = group.map { group in { try group.allReduce($0, .average) } }
        var epochOrder: (epoch: Int, order: [Int])?
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
            if epochOrder?.epoch != epoch { epochOrder = (epoch, localOrder(epoch: epoch)) }
            let order = epochOrder?.order ?? []
            let slice = order[(index * args.perDeviceTrainBatchSize)..<min(order.count, (index + 1) * args.perDeviceTrainBatchSize)]
            let records = slice.map { trainRecords[$0] }
            // mDPO's crops: seeded per rank and micro-batch (in one process, by micro-batch as before).
            let cropPosition = microBatches * worldSize + rank
            let (pi, ref) = try forwardPrecision { try recordLogProbs(records, corrupted: try corruptedBatch(records, position: cropPosition)) }
            try optimizer.throwIfFailed()
            let result = loss(policy: pi, reference: ref, mode: .train)
            let share = result.loss / Double(args.gradientAccumulationSteps)
            (scaler?.scaled(share) ?? share).backward()
            try optimizer.finishBackward()
            // Nothing is read back inside the step: losses and metrics stay on the device until the
            // optimiser step reads them in one transfer (StepReadout).
            window.append(result.metricTensors)
            stepLosses.append(result.loss.detach())
            microBatches += 1
            let groupEnds = (index + 1) % args.gradientAccumulationSteps == 0 || index == perEpoch - 1
            guard groupEnds else { continue }

            // The ranks' gradients combined once per optimiser step (all-reduce or reduce-scatter).
            try optimizer.reduceGradients()
            // With --fp16: unscale before clipping (grad_norm is of the true gradients), skip the update
            // when any gradient overflowed — on every rank alike — and adjust the scale: GradScaler's
            // unscale_/step/update.
            if let scaler {
                scaler.unscale(optimizer.gradientsToUnscale())
                if let group { try scaler.agreeOnFoundInf { try group.agreeOnFoundInf($0) } }
            }
            lastNorm = try optimizer.clipGradients(maxNorm: args.maxGradNorm > 0 ? args.maxGradNorm : .infinity)
            let logging = args.logs(at: globalStep + 1, of: total)
            let readout = try StepReadout.read(losses: stepLosses, metrics: logging ? window : [], reduce: reduce)
            stepLosses.removeAll()
            guard readout.losses.allSatisfy(\.isFinite) else {
                throw TrainingError.nonFiniteLoss(step: globalStep + 1, lastCheckpoint: savedCheckpoints.last)
            }
            let value = readout.losses.last ?? .nan
            windowLoss += readout.losses.reduce(0, +) / Double(args.gradientAccumulationSteps)
            if scaler?.foundInf ?? false {
                skippedSteps += 1
            } else {
                try optimizer.step(lr: schedule.rate(step: globalStep - skippedSteps))
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
                // torch.cuda.max_memory_allocated of the run so far, in GiB (CUDA only).
                if policy.device.isCUDA { line["max_memory_allocated_gib"] = Double(Torch.maxMemoryAllocated(policy.device)) / 1_073_741_824 }
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

    /// Appends a line to metrics.jsonl and TensorBoard (under HF's tags; rank 0 only). A line that
    /// cannot be written stops training on every rank — after saving the current state, so nothing
    /// trained is lost.
    func log(_ line: [String: Double]) throws {
        var failure: (path: String, reason: String)?
        if let metricsLog {
            do {
                try metricsLog.write(line)
                try tensorBoard?.write(step: globalStep, scalars: TensorBoardWriter.hfTags(line))
            } catch TrainingError.io(let path, let reason) {
                failure = (path, reason)
            } catch {
                failure = (metricsLog.path, "\(error)")
            }
        }
        let failed = try group.map { try $0.any(failure != nil) } ?? (failure != nil)
        guard failed else { return }
        let saved: String?, saveError: String?
        do {
            (saved, saveError) = (try saveCheckpoint(), nil)
        } catch {
            (saved, saveError) = (nil, "\(error)")
        }
        throw TrainingError.logWrite(path: failure?.path ?? args.outputDir + "/metrics.jsonl (on rank 0)", step: globalStep,
                                     reason: failure?.reason ?? "rank 0 could not write it", saved: saved, saveError: saveError)
    }

    /// Loss and metrics on the evaluation records (every term reported), with the `eval_` prefix: means
    /// over the records, each batch's means weighted by its records.
    ///
    /// Data parallel, the records are split as HF's evaluation dataloader with torch's
    /// `DistributedSampler` (no shuffle) splits them: rank r scores records r, r + W, …, the list padded
    /// by repeating its head so that every rank runs as many batches. The padding duplicates are scored
    /// (the ranks stay in step) but left out of the means, as HF's `gather_for_metrics` drops them, so
    /// the result equals one process's at any world size; the ranks' sums are added in one all-reduce.
    public func evaluate() throws -> [String: Double] {
        let sampler = DistributedSampler(count: evalRecords.count, worldSize: worldSize, rank: rank, shuffle: false)
        let mine = sampler.indices(epoch: 0)
        var sums: [String: Double] = [:]
        var lossSum = 0.0
        var counted = 0
        try Autograd.noGrad {
            var start = 0
            while start < mine.count {
                let end = min(mine.count, start + args.perDeviceEvalBatchSize)
                let indices = Array(mine[start..<end])
                let records = indices.map { evalRecords[$0] }
                // Local position j is global position rank + j·W of the padded list; past the records'
                // count it is a duplicate (always at the end of a rank's list).
                let real = (start..<end).filter { rank + $0 * worldSize < evalRecords.count }.count
                // Evaluation crops are fixed by the batch's first record, the same at every evaluation.
                let (pi, ref) = try forwardPrecision {
                    try recordLogProbs(records, corrupted: try corruptedBatch(records, position: -1 - indices[0]))
                }
                try optimizer.throwIfFailed()
                // A batch of duplicates only still names the metrics (weight 0), so every rank sums the same keys.
                let result = loss(policy: pi.prefix(max(1, real)), reference: ref.prefix(max(1, real)), mode: .eval)
                let weight = Double(real)
                for (key, value) in result.metrics { sums[key, default: 0] += value * weight }
                lossSum += result.loss.item().doubleValue * weight
                counted += real
                start = end
            }
        }
        let names = sums.keys.sorted()
        var totals = [Double(counted), lossSum] + names.map { sums[$0] ?? 0 }
        if let group {
            // Every rank has the same loss, hence the same metric names and as many totals.
            totals = try group.allReduce(totals, .sum)
        }
        let count = max(1, totals[0])
        var line: [String: Double] = [:]
        for (i, name) in names.enumerated() { line["eval_" + name] = totals[2 + i] / count }
        line["eval_loss"] = totals[1] / count
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
