import Distributed
import NN
import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The trainer's AdamW in one of four arrangements, behind the calls of an optimiser step (reduce,
/// unscale targets, clip, step, zero) and of checkpoints:
///
/// - one process: `AdamW` on the local gradients;
/// - ZeRO-0 (data parallel): `GradientAverager` all-reduces the gradients once per optimiser step,
///   then the same `AdamW` runs on every rank (identical gradients, identical updates);
/// - ZeRO-1/2: `ShardedAdamW` — each rank keeps float32 master weights and AdamW moments for its
///   shard, keeps only its shard of the averaged gradients (stage 2: reduce-scattered bucket by bucket
///   during the backward pass) and all-gathers the updated weights;
/// - ZeRO-3: `ParameterShards` — the blocks' parameters themselves sharded (policy and frozen
///   reference), gathered block by block, their gradients reduce-scattered as the backward pass leaves
///   each block.
public final class TrainerOptimizer {
    /// The unsharded AdamW (one process and ZeRO-0); nil otherwise.
    public let adamW: AdamW?
    let averager: GradientAverager?
    /// The sharded AdamW of ZeRO-1/2.
    public let sharded: ShardedAdamW?
    /// The parameter shards of ZeRO-3.
    public let zero3: ParameterShards?
    /// Names of the parameters the optimiser updates.
    public let parameterNames: [String]
    /// Shapes of the trainable parameters by name (under ZeRO-3 the parameters themselves are released).
    let parameterShapes: [String: [Int]]

    /// `group` nil: one process. Otherwise `stage` picks the arrangement; ZeRO-3 also shards the blocks of
    /// `frozen` (the reference model) and moves both models to the group's device.
    /// `autocastDType`: the dtype the forward passes run in (`--bf16`/`--fp16`), in which ZeRO-3 may
    /// gather what autocast rounds to it anyway.
    init(model: Module, frozen: [Module], settings: AdamW.Settings, group: ProcessGroup?, stage: ZeroStage, autocastDType: DType? = nil) {
        let parameters = model.namedParameters()
        var seen = Set<ObjectIdentifier>()
        parameterShapes = Dictionary(parameters.filter { $0.parameter.trainable && seen.insert(ObjectIdentifier($0.parameter)).inserted }
            .map { ($0.name, $0.parameter.value.shape) }, uniquingKeysWith: { a, _ in a })
        adamW = group == nil || stage == .stage0 ? AdamW(parameters: parameters, settings: settings) : nil
        averager = group.flatMap { group in
            guard stage == .stage0 else { return nil }
            var seen = Set<ObjectIdentifier>()
            let trainable = parameters.map(\.parameter).filter { $0.trainable && seen.insert(ObjectIdentifier($0)).inserted }
            return GradientAverager(parameters: trainable, group: group)
        }
        sharded = group.flatMap { group in
            guard stage == .stage1 || stage == .stage2 else { return nil }
            return ShardedAdamW(parameters: parameters.map { ($0.name, $0.parameter, AdamW.decays($0.name)) },
                                beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps,
                                weightDecay: settings.weightDecay, group: group, stage: stage, offloadMoments: settings.offloadMoments)
        }
        zero3 = group.flatMap { group in
            guard stage == .stage3 else { return nil }
            return ParameterShards(model: model, frozen: frozen, group: group, beta1: settings.beta1, beta2: settings.beta2,
                                   eps: settings.eps, weightDecay: settings.weightDecay, decays: AdamW.decays,
                                   offloadMoments: settings.offloadMoments, autocastDType: autocastDType)
        }
        parameterNames = adamW?.parameterNames ?? sharded?.parameterNames ?? zero3?.canonical.flatMap { $0.members.map(\.name) } ?? []
    }

    /// After each micro-batch's backward pass: ZeRO-2 reduces the buckets the pass left, ZeRO-3 reduces
    /// and frees any block still whole; both throw a collective failure met inside the pass.
    func finishBackward() throws {
        try sharded?.finishBackward()
        try zero3?.finishBackward()
    }

    /// Throws a collective failure ZeRO-3 met inside a forward pass.
    func throwIfFailed() throws {
        try zero3?.throwIfFailed()
    }

    /// Combines the ranks' accumulated gradients: nothing in one process, an all-reduce (ZeRO-0 and 1),
    /// a reduce-scatter of ZeRO-3's parameters outside blocks; ZeRO-2's and ZeRO-3's blocks were reduced
    /// during the backward passes (ZeRO-2 checks here that the ranks reduced alike). Once per optimiser
    /// step, after the last micro-batch's backward.
    func reduceGradients() throws {
        if let averager { try averager.averageGradients() }
        if let sharded { try sharded.reduceGradients() }
        if let zero3 { try zero3.reduceResidentGradients() }
    }

    /// The gradients this rank holds after `reduceGradients()`: what `GradScaler.unscale` divides.
    func gradientsToUnscale() -> [Tensor] {
        sharded?.shardGradients ?? zero3?.shardGradients ?? adamW?.presentGradients() ?? []
    }

    /// Clips to a global 2-norm over the whole model and returns the norm before clipping (the same on
    /// every rank).
    func clipGradients(maxNorm: Double) throws -> Double {
        if let sharded { return try sharded.clipGradients(maxNorm: maxNorm) }
        if let zero3 { return try zero3.clipGradients(maxNorm: maxNorm) }
        return adamW?.clipGradients(maxNorm: maxNorm) ?? 0
    }

    func step(lr: Double) throws {
        if let sharded { try sharded.step(lr: lr) }
        if let zero3 { try zero3.step(lr: lr) }
        adamW?.step(lr: lr)
    }

    /// Values of this rank's AdamW moments (`exp_avg` and `exp_avg_sq` together).
    public var momentValues: Int {
        sharded?.momentValues ?? zero3?.momentValues ?? adamW?.slots.reduce(0) { $0 + $1.expAvg.count + $1.expAvgSq.count } ?? 0
    }

    /// The float32 gradient this rank will hold at the least once training starts: the whole model's
    /// in one process and at ZeRO-0/1, its 1/W chunk of the average at ZeRO-2/3 (the buckets and
    /// blocks being reduced come on top). Nothing of it exists before the first backward pass.
    public var gradientBytes: Int {
        let values = parameterShapes.values.reduce(0) { $0 + $1.reduce(1, *) }
        let world = sharded?.group.worldSize ?? zero3?.group.worldSize ?? 1
        let chunked = sharded?.stage == .stage2 || zero3 != nil
        return 4 * (chunked ? (values + world - 1) / world : values)
    }

    /// Drops every gradient (and the shards' gradient chunks).
    public func zeroGradients() {
        sharded?.zeroGradients()
        zero3?.zeroGradients()
        adamW?.zeroGradients()
    }

    /// The unsharded AdamW's state by name (one process and ZeRO-0). Under ZeRO-1/2/3 the state lives
    /// in shards: see the checkpoint files.
    public func stateDict() -> [String: Tensor] {
        guard let adamW else { preconditionFailure("TrainerOptimizer.stateDict under ZeRO-1/2/3: the state is sharded") }
        return adamW.stateDict()
    }

    /// Runs `body` with the model's weights whole (ZeRO-3 gathers every block, to the CPU on rank 0 —
    /// the other ranks see their blocks released); every rank must call it. Elsewhere the weights are
    /// whole anyway.
    public func withWholeWeights(_ body: () throws -> Void) throws {
        if let zero3 { try zero3.withWholeWeights(body) } else { try body() }
    }

    /// Loads a checkpoint's whole weights by name into `model` (ZeRO-3: into this rank's chunks).
    func loadWeights(_ tensors: [String: Tensor], into model: Module, source: String) throws {
        let named = model.namedParameters()
        if let zero3 {
            try zero3.loadWeights(tensors, names: Set(named.map(\.name)), source: source)
            return
        }
        try Autograd.noGrad {
            for (name, p) in named {
                guard let t = tensors[name] else { throw WeightLoadingError.missing(key: name, source: source) }
                guard t.shape == p.value.shape else {
                    throw WeightLoadingError.shapeMismatch(key: name, source: source, expected: p.value.shape, found: t.shape)
                }
                p.value.copy_(t)
            }
        }
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
        } else if let zero3 {
            try zero3.writeState(to: directory + "/" + Self.shardedFolder)
        } else if let adamW, isMain {
            try SafetensorsWriter.write(adamW.stateDict(), metadata: ["format": "svco-adamw"], to: directory + "/" + Self.unshardedFile)
        }
    }

    /// Reads the state of checkpoint `directory`, whichever arrangement saved it: unsharded state into
    /// AdamW or into the shards, sharded state (of any world size and stage) re-sharded or consolidated.
    /// No collective (each rank reads what it needs): after every rank succeeded, `finishLoading()`
    /// writes sharded masters into the weights.
    func load(from directory: String) throws {
        let unsharded = directory + "/" + Self.unshardedFile
        let shardedState = directory + "/" + Self.shardedFolder
        if FileManager.default.fileExists(atPath: unsharded) {
            let file = try SafetensorsFile(path: unsharded)
            if let adamW { try adamW.load(state: file.tensors(), source: file.path) }
            if let sharded { try sharded.loadConsolidated(file.tensors(), source: file.path, gather: false) }
            if let zero3 { try zero3.loadState(from: nil, unsharded: file.tensors(), source: file.path, gather: false) }
        } else if FileManager.default.fileExists(atPath: shardedState) {
            if let sharded { try sharded.loadState(from: shardedState, gather: false) }
            if let zero3 { try zero3.loadState(from: shardedState, unsharded: nil, source: shardedState, gather: false) }
            if let adamW {
                try adamW.load(state: try ShardedAdamW.consolidatedState(from: shardedState, shapes: parameterShapes), source: shardedState)
            }
        } else {
            throw TrainingError.checkpoint(path: directory, reason: "holds no optimizer state (\(Self.unshardedFile) or \(Self.shardedFolder)/)")
        }
    }

    /// After `load(from:)` on every rank: the weights become the loaded masters (ZeRO-1/2/3's replicated
    /// weights, a collective); nothing to do otherwise.
    func finishLoading() throws {
        try sharded?.gatherWeights()
        try zero3?.gatherResident()
    }
}
