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
import Models
import NN
import Torch

/// Checkpoints: `OUTPUT_DIR/checkpoint-<step>/` with the weights in HF layout, the optimiser state
/// and `trainer_state.json` (step and data position). Each is written under a temporary name and
/// renamed into place, so an interrupted save never leaves a half checkpoint.
extension SVCOTrainer {
    struct State: Codable {
        var globalStep: Int
        var microBatches: Int
        var seed: UInt64
        /// Absent in checkpoints of runs that never skipped a step (and of older svco versions).
        var skippedSteps: Int?
        /// The loss scaler of an fp16 run (torch saves it as `scaler.pt`).
        var gradScaler: GradScaler.State?
        enum CodingKeys: String, CodingKey {
            case globalStep = "global_step"
            case microBatches = "micro_batches"
            case seed
            case skippedSteps = "skipped_steps"
            case gradScaler = "grad_scaler"
        }
    }

    /// Writes a checkpoint for the current step and applies `saveTotalLimit`. Returns its folder.
    public func saveCheckpoint() throws -> String {
        let final = args.outputDir + "/checkpoint-\(globalStep)"
        let temporary = final + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        let fm = FileManager.default
        try? fm.removeItem(atPath: temporary)
        do {
            try policy.save(directory: temporary, configSource: builderModelDirectory)
            try SafetensorsWriter.write(optimizer.stateDict(), metadata: ["format": "svco-adamw"], to: temporary + "/optimizer.safetensors")
            let state = State(globalStep: globalStep, microBatches: microBatches, seed: args.seed,
                              skippedSteps: skippedSteps > 0 ? skippedSteps : nil, gradScaler: scaler?.state)
            let json = try JSONEncoder().encode(state)
            try AtomicFile.write(to: temporary + "/trainer_state.json") { try $0.write(Array(json)) }
            if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
            try fm.moveItem(atPath: temporary, toPath: final)
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw TrainingError.checkpoint(path: final, reason: "could not be written: \(error)")
        }
        savedCheckpoints.append(final)
        if let limit = args.saveTotalLimit, limit > 0 {
            while savedCheckpoints.count > limit {
                try? fm.removeItem(atPath: savedCheckpoints.removeFirst())
            }
        }
        return final
    }

    /// Restores weights, optimiser state, step and data position from a checkpoint folder.
    public func resume(from checkpoint: String) throws {
        let tensors = try SafetensorsCheckpoint.load(directory: checkpoint)
        let byName = Dictionary(uniqueKeysWithValues: policy.namedParameters().map { ($0.name, $0.parameter) })
        try Autograd.noGrad {
            for (name, p) in byName {
                guard let t = tensors[name] else { throw WeightLoadingError.missing(key: name, source: checkpoint) }
                guard t.shape == p.value.shape else {
                    throw WeightLoadingError.shapeMismatch(key: name, source: checkpoint, expected: p.value.shape, found: t.shape)
                }
                p.value.copy_(t)
            }
        }
        let optimizerFile = try SafetensorsFile(path: checkpoint + "/optimizer.safetensors")
        try optimizer.load(state: optimizerFile.tensors(), source: optimizerFile.path)
        let statePath = checkpoint + "/trainer_state.json"
        let state: State
        do {
            state = try JSONDecoder().decode(State.self, from: FileRead.contents(of: statePath))
        } catch let error as FileReadError {
            throw TrainingError.checkpoint(path: statePath, reason: error.reason)
        } catch {
            throw TrainingError.checkpoint(path: statePath, reason: "not a trainer state written by svco (global_step, micro_batches, seed)")
        }
        globalStep = state.globalStep
        microBatches = state.microBatches
        skippedSteps = state.skippedSteps ?? 0
        // A checkpoint of a run without --fp16 has no scaler: the scaler starts afresh (2^16).
        if let scaler, let saved = state.gradScaler { scaler.load(saved) }
        savedCheckpoints = [checkpoint]
        // The interrupted run may have logged steps after this checkpoint; they are trained again.
        try metricsLog.truncate(afterStep: globalStep)
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
    /// processor files, so that transformers (and svco) load `outputDir` directly.
    public func saveFinalModel() throws {
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
