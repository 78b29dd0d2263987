#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AtomicFiles
#if canImport(Glibc)
import Glibc
#endif
import Datasets
import Distributed
import Models
import NN
import Torch

/// Checkpoints: `OUTPUT_DIR/checkpoint-<step>/` with the weights in HF layout, the optimiser state
/// and `trainer_state.json` (step and data position). Each is written under a temporary name and
/// renamed into place, so an interrupted save never leaves a half checkpoint.
///
/// Data parallel, rank 0 writes the weights (every rank holds them all under ZeRO 0–2) and the trainer
/// state; the optimiser state is `optimizer.safetensors` from rank 0 (one process, ZeRO-0: every rank
/// holds the same) or `optimizer/zero-rank-R-of-W.safetensors` from each rank (ZeRO-1/2), all into one
/// temporary folder named after rank 0's process, which therefore must lie on a file system every node
/// sees. Each phase ends with the ranks agreeing that it succeeded everywhere. A checkpoint resumes at
/// any world size and stage: unsharded state is sharded on load, sharded state re-sharded or consolidated.
extension SVCOTrainer {
    struct State: Codable {
        var globalStep: Int
        var microBatches: Int
        var seed: UInt64
        /// Absent in checkpoints of runs that never skipped a step (and of older svco versions).
        var skippedSteps: Int?
        /// The loss scaler of an fp16 run (torch saves it as `scaler.pt`).
        var gradScaler: GradScaler.State?
        /// Ranks and per-device batch of the run that saved it (absent before data parallelism: 1 and
        /// the resuming run's batch): `micro_batches` counts one rank's micro-batches of that shape.
        var worldSize: Int?
        var perDeviceTrainBatchSize: Int?
        var zeroStage: Int?
        enum CodingKeys: String, CodingKey {
            case globalStep = "global_step"
            case microBatches = "micro_batches"
            case seed
            case skippedSteps = "skipped_steps"
            case gradScaler = "grad_scaler"
            case worldSize = "world_size"
            case perDeviceTrainBatchSize = "per_device_train_batch_size"
            case zeroStage = "zero_stage"
        }
    }

    /// Writes a checkpoint for the current step and applies `saveTotalLimit`. Returns its folder.
    /// Data parallel, every rank must call it (see the extension's documentation).
    public func saveCheckpoint() throws -> String {
        let final = args.outputDir + "/checkpoint-\(globalStep)"
        let temporary = final + ".tmp-\(writerPID)"
        let name = "checkpoint-\(globalStep)"
        let fm = FileManager.default
        do {
            try agree("creating \(name)") {
                guard isMain else { return }
                try? fm.removeItem(atPath: temporary)
                try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            }
            try agree("writing \(name)") {
                // Local failures are kept until the weights' gathering (a collective under ZeRO-3) is over.
                var failure: Error?
                do {
                    if !isMain && !fm.fileExists(atPath: temporary) {
                        throw TrainingError.checkpoint(path: temporary, reason: "rank \(rank) does not see the folder rank 0 created: "
                            + "--output-dir must be on a file system every node shares")
                    }
                    try optimizer.write(into: temporary, isMain: isMain)
                } catch {
                    failure = error
                }
                try optimizer.withWholeWeights {
                    guard isMain, failure == nil else { return }
                    do {
                        try policy.save(directory: temporary, configSource: builderModelDirectory)
                        let state = State(globalStep: globalStep, microBatches: microBatches, seed: args.seed,
                                          skippedSteps: skippedSteps > 0 ? skippedSteps : nil, gradScaler: scaler?.state,
                                          worldSize: group == nil ? nil : worldSize, perDeviceTrainBatchSize: args.perDeviceTrainBatchSize,
                                          zeroStage: group == nil ? nil : args.zeroStage)
                        let json = try JSONEncoder().encode(state)
                        try AtomicFile.write(to: temporary + "/trainer_state.json") { try $0.write(Array(json)) }
                    } catch {
                        failure = error
                    }
                }
                if let failure { throw failure }
            }
            try agree("moving \(name) into place") {
                guard isMain else { return }
                if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
                try fm.moveItem(atPath: temporary, toPath: final)
            }
        } catch {
            if isMain { try? fm.removeItem(atPath: temporary) }
            throw TrainingError.checkpoint(path: final, reason: "could not be written: \(error)")
        }
        savedCheckpoints.append(final)
        if let limit = args.saveTotalLimit, limit > 0 {
            while savedCheckpoints.count > limit {
                let old = savedCheckpoints.removeFirst()
                if isMain { try? fm.removeItem(atPath: old) }
            }
        }
        return final
    }

    /// Restores weights, optimiser state, step and data position from a checkpoint folder, saved at any
    /// world size and ZeRO stage (the data position is carried over in records of the epoch, which the
    /// new global micro-batch must divide). Data parallel, every rank must call it.
    public func resume(from checkpoint: String) throws {
        var state: State?
        try agree("reading \(checkpoint)") {
            try optimizer.loadWeights(try SafetensorsCheckpoint.load(directory: checkpoint), into: policy, source: checkpoint)
            try optimizer.load(from: checkpoint)
            let statePath = checkpoint + "/trainer_state.json"
            do {
                state = try JSONDecoder().decode(State.self, from: FileRead.contents(of: statePath))
            } catch let error as FileReadError {
                throw TrainingError.checkpoint(path: statePath, reason: error.reason)
            } catch {
                throw TrainingError.checkpoint(path: statePath, reason: "not a trainer state written by svco (global_step, micro_batches, seed)")
            }
        }
        try optimizer.finishLoading()
        guard let state else { return }
        globalStep = state.globalStep
        microBatches = try dataPosition(of: state, checkpoint: checkpoint)
        skippedSteps = state.skippedSteps ?? 0
        // A checkpoint of a run without --fp16 has no scaler: the scaler starts afresh (2^16).
        if let scaler, let saved = state.gradScaler { scaler.load(saved) }
        savedCheckpoints = [checkpoint]
        // The interrupted run may have logged steps after this checkpoint; they are trained again.
        try agree("truncating metrics.jsonl") { try metricsLog?.truncate(afterStep: globalStep) }
    }

    /// This rank's micro-batch count that continues where `state` stopped. Saved with this run's world
    /// size and batch it is the saved count; otherwise the saved count is turned into records of the
    /// epoch's (padded) order read so far — index × batch × world size — and back into micro-batches of
    /// this run's global micro-batch.
    func dataPosition(of state: State, checkpoint: String) throws -> Int {
        let savedWorld = state.worldSize ?? 1
        let savedBatch = state.perDeviceTrainBatchSize ?? args.perDeviceTrainBatchSize
        let batch = args.perDeviceTrainBatchSize
        if savedWorld == worldSize && savedBatch == batch { return state.microBatches }
        guard savedWorld >= 1, savedBatch >= 1 else {
            throw TrainingError.checkpoint(path: checkpoint + "/trainer_state.json", reason: "world_size and per_device_train_batch_size must be positive")
        }
        let savedPerRank = DistributedSampler(count: trainRecords.count, worldSize: savedWorld, rank: 0, shuffle: false).samplesPerRank
        let savedPerEpoch = (savedPerRank + savedBatch - 1) / savedBatch
        let epoch = state.microBatches / savedPerEpoch
        let read = (state.microBatches % savedPerEpoch) * savedBatch * savedWorld
        guard read % (batch * worldSize) == 0 else {
            throw TrainingError.checkpoint(path: checkpoint, reason: "saved after \(read) records of epoch \(epoch) (\(savedWorld) ranks × batch \(savedBatch)), "
                + "which \(worldSize) ranks × --per-device-train-batch-size \(batch) cannot continue from exactly; "
                + "choose a global micro-batch that divides \(read)")
        }
        return epoch * microBatchesPerEpoch + read / (batch * worldSize)
    }

    /// Removes `checkpoint-<step>.tmp-<pid>` folders whose writing process is gone (a run killed while
    /// saving leaves one, many GB for a 7B model). Folders of a live process are left alone.
    static func removeAbandonedCheckpoints(in outputDir: String) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: outputDir)) ?? [] {
            let parts = name.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, parts[0].hasPrefix("checkpoint-"), Int(parts[0].dropFirst("checkpoint-".count)) != nil,
                  parts[1].hasPrefix("tmp-"), let pid = Int32(parts[1].dropFirst("tmp-".count)) else { continue }
            if pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH { continue }
            try? fm.removeItem(atPath: outputDir + "/" + name)
        }
    }

    /// The newest `checkpoint-<step>` folder in `outputDir`, if any.
    public static func latestCheckpoint(in outputDir: String) -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputDir)) ?? []
        let steps = names.compactMap { name -> Int? in
            guard name.hasPrefix("checkpoint-") else { return nil }
            return Int(name.dropFirst("checkpoint-".count))
        }
        return steps.max().map { outputDir + "/checkpoint-\($0)" }
    }

    var builderModelDirectory: String { modelDirectory }

    /// Saves the trained model in HF layout plus the model folder's tokenizer, template and
    /// processor files, so that transformers (and svco) load `outputDir` directly. Data parallel, every
    /// rank calls it and rank 0 writes; all return (or throw) together.
    public func saveFinalModel() throws {
        try agree("saving the model to \(args.outputDir)") {
            var failure: Error?
            try optimizer.withWholeWeights {
                guard isMain else { return }
                do { try writeFinalModel() } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    func writeFinalModel() throws {
        try policy.save(directory: args.outputDir, configSource: modelDirectory)
        let fm = FileManager.default
        for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                     "tokenizer.model", "chat_template.json", "chat_template.jinja", "preprocessor_config.json",
                     "processor_config.json", "generation_config.json"] {
            let from = modelDirectory + "/" + name
            guard fm.fileExists(atPath: from) else { continue }
            let data = try FileRead.contents(of: from)
            try AtomicFile.write(to: args.outputDir + "/" + name) { try $0.write(Array(data)) }
        }
    }
}
