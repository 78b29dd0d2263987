import Distributed
import NN
import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The trainer's AdamW in one of three arrangements, behind the five calls of an optimiser step
/// (reduce, unscale targets, clip, step, zero):
///
/// - one process: `AdamW` on the local gradients;
/// - ZeRO-0 (data parallel): `GradientAverager` all-reduces the gradients once per optimiser step,
///   then the same `AdamW` runs on every rank (identical gradients, identical updates);
/// - ZeRO-1/2: `ShardedAdamW` — each rank keeps float32 master weights and AdamW moments for its
///   shard, receives only its shard of the averaged gradients (stage 2: reduce-scatter) and all-gathers
///   the updated weights.
public final class TrainerOptimizer {
    /// The unsharded AdamW (one process and ZeRO-0); nil under ZeRO-1/2.
    public let adamW: AdamW?
    let averager: GradientAverager?
    /// The sharded AdamW of ZeRO-1/2.
    public let sharded: ShardedAdamW?
    /// Names of the parameters the optimiser updates (decay group first under sharding).
    public let parameterNames: [String]

    /// `group` nil: one process. Otherwise `stage` picks the arrangement (stage 3 is refused by
    /// `ZeroStage` before this point).
    init(parameters: [(name: String, parameter: Parameter)], settings: AdamW.Settings, group: ProcessGroup?, stage: ZeroStage) {
        if let group, stage != .stage0 {
            let sharded = ShardedAdamW(parameters: parameters.map { ($0.name, $0.parameter, AdamW.decays($0.name)) },
                                       beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps,
                                       weightDecay: settings.weightDecay, group: group, stage: stage)
            self.sharded = sharded
            adamW = nil
            averager = nil
            parameterNames = sharded.parameterNames
        } else {
            let adamW = AdamW(parameters: parameters, settings: settings)
            self.adamW = adamW
            sharded = nil
            averager = group.map { group in
                var seen = Set<ObjectIdentifier>()
                let trainable = parameters.map(\.parameter).filter { $0.trainable && seen.insert(ObjectIdentifier($0)).inserted }
                return GradientAverager(parameters: trainable, group: group)
            }
            parameterNames = adamW.parameterNames
        }
    }

    /// Combines the ranks' accumulated gradients: nothing in one process, an all-reduce (ZeRO-0 and 1)
    /// or a reduce-scatter (ZeRO-2). Once per optimiser step, after the last micro-batch's backward.
    func reduceGradients() throws {
        if let averager { try averager.averageGradients() }
        if let sharded { try sharded.reduceGradients() }
    }

    /// The gradients this rank holds after `reduceGradients()`: what `GradScaler.unscale` divides.
    func gradientsToUnscale() -> [Tensor] {
        sharded?.shardGradients ?? adamW?.presentGradients() ?? []
    }

    /// Clips to a global 2-norm over the whole model and returns the norm before clipping (the same on
    /// every rank).
    func clipGradients(maxNorm: Double) throws -> Double {
        if let sharded { return try sharded.clipGradients(maxNorm: maxNorm) }
        return adamW?.clipGradients(maxNorm: maxNorm) ?? 0
    }

    func step(lr: Double) throws {
        if let sharded { try sharded.step(lr: lr) }
        adamW?.step(lr: lr)
    }

    /// Drops every gradient (and the shards' gradient chunks).
    public func zeroGradients() {
        sharded?.zeroGradients()
        adamW?.zeroGradients()
    }

    /// The unsharded AdamW's state by name (one process and ZeRO-0). Under ZeRO-1/2 the state lives in
    /// shards: see `ShardedAdamW.consolidatedState()`.
    public func stateDict() -> [String: Tensor] {
        guard let adamW else { preconditionFailure("TrainerOptimizer.stateDict under ZeRO-1/2: the state is sharded") }
        return adamW.stateDict()
    }

    // MARK: checkpoints

    /// File of the unsharded state in a checkpoint folder.
    static let unshardedFile = "optimizer.safetensors"
    /// Folder of the sharded state (one `zero-rank-R-of-W.safetensors` per rank).
    static let shardedFolder = "optimizer"

    /// Writes this rank's part of the state into checkpoint folder `directory`: the whole AdamW state by
    /// rank 0 alone (every rank holds the same), or each rank's shard. No collective: the caller agrees
    /// on success afterwards.
    func write(into directory: String, isMain: Bool) throws {
        if let sharded {
            try sharded.writeShard(to: directory + "/" + Self.shardedFolder)
        } else if let adamW, isMain {
            try SafetensorsWriter.write(adamW.stateDict(), metadata: ["format": "svco-adamw"], to: directory + "/" + Self.unshardedFile)
        }
    }

    /// Reads the state of checkpoint `directory`, whichever arrangement saved it: unsharded state into
    /// AdamW or into the shards, sharded state (of any world size) re-sharded or consolidated.
    /// `shapes`: the trainable parameters' shapes by name. No collective (each rank reads what it
    /// needs): after every rank succeeded, `finishLoading()` writes sharded masters into the weights.
    func load(from directory: String, shapes: [String: [Int]]) throws {
        let unsharded = directory + "/" + Self.unshardedFile
        let shardedState = directory + "/" + Self.shardedFolder
        if FileManager.default.fileExists(atPath: unsharded) {
            let file = try SafetensorsFile(path: unsharded)
            if let adamW { try adamW.load(state: file.tensors(), source: file.path) }
            if let sharded { try sharded.loadConsolidated(try file.tensors(), source: file.path, gather: false) }
        } else if FileManager.default.fileExists(atPath: shardedState) {
            if let sharded { try sharded.loadState(from: shardedState, gather: false) }
            if let adamW {
                try adamW.load(state: try ShardedAdamW.consolidatedState(from: shardedState, shapes: shapes), source: shardedState)
            }
        } else {
            throw TrainingError.checkpoint(path: directory, reason: "holds no optimizer state (\(Self.unshardedFile) or \(Self.shardedFolder)/)")
        }
    }

    /// After `load(from:shapes:)` on every rank: the weights become the loaded masters (ZeRO-1/2, a
    /// collective); nothing to do otherwise.
    func finishLoading() throws {
        try sharded?.gatherWeights()
    }
}
