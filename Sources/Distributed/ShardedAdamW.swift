import NN
import Torch

/// AdamW for ZeRO stages 1 and 2: the trainable parameters are flattened (one flat vector per weight-
/// decay group, as HF Trainer's two parameter groups), cut into padded buckets (`FlatLayout`), and
/// each rank keeps float32 master weights, `exp_avg`, `exp_avg_sq` and the step count only for its
/// chunk of every bucket. A step is:
///
/// 1. stage 1: `reduceGradients()` all-reduces each bucket of gradients and keeps this rank's chunk,
///    dropping the parameters' `.grad` bucket by bucket as they are consumed; stage 2 reduce-scatters
///    each bucket during the backward pass as soon as its gradients are complete
///    (`ShardedAdamW+InBackward.swift`), so only the chunk is kept; `finishBackward()` after each
///    micro-batch's backward pass reduces what remains;
/// 2. (fp16) `GradScaler.unscale(shardGradients)`, then `group.agreeOnFoundInf` so all ranks skip
///    together;
/// 3. `clipGradients(maxNorm:)` — the global 2-norm from every rank's shard (one all-reduce);
/// 4. `step(lr:)` — ATen's fused AdamW kernel (`OptimizerKernels.fusedAdamW`, the very kernel the
///    single-process `AdamW` runs) on the shards, then an all-gather per bucket writes the updated
///    weights back into every rank's parameters.
///
/// The result equals the single-process AdamW step on the averaged gradients, elementwise, up to
/// float32 rounding of the norm's summation order. One difference: a trainable parameter that got no
/// gradient is updated with a zero gradient (its moments decay, weight decay applies) where torch
/// would skip it — as in DeepSpeed, whose flat buffers have the same property; in S-VCO every
/// trainable parameter gets a gradient.
public final class ShardedAdamW {
    /// One weight-decay group's flat shard and state.
    final class Group {
        let name: String
        let weightDecay: Double
        let names: [String]
        let parameters: [Parameter]
        let layout: FlatLayout
        /// Per bucket, this rank's chunk (`[chunk]`, float32, on the group's device).
        var master: [Tensor] = []
        var expAvg: [Tensor] = []
        var expAvgSq: [Tensor] = []
        var steps: [Tensor] = []
        var gradients: [Tensor?] = []

        init(name: String, weightDecay: Double, members: [(String, Parameter)], worldSize: Int, bucketCapacity: Int) {
            self.name = name
            self.weightDecay = weightDecay
            names = members.map(\.0)
            parameters = members.map(\.1)
            layout = FlatLayout(counts: parameters.map { $0.value.count }, worldSize: worldSize, bucketCapacity: bucketCapacity)
        }
    }

    public let stage: ZeroStage
    public let group: ProcessGroup
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    /// AdamW's moments in CPU memory, streamed through the device at each step.
    public let offloadMoments: Bool
    let groups: [Group]
    /// Stage 2's reduction inside the backward pass; nil for stage 1.
    let inBackward: InBackwardReduction?

    /// `parameters`: every parameter of the model with its checkpoint name, whether it takes weight
    /// decay (`AdamW.decays(name)`), in the same order on every rank; frozen ones and repeats of a
    /// tied parameter are left out, as `AdamW` does. Master weights start as float32 copies of this
    /// rank's chunks of the current weights.
    public init(parameters: [(name: String, parameter: Parameter, decays: Bool)], beta1: Double, beta2: Double,
                eps: Double, weightDecay: Double, group: ProcessGroup, stage: ZeroStage,
                bucketCapacity: Int = FlatLayout.defaultBucketCapacity, offloadMoments: Bool = false) {
        precondition(stage == .stage1 || stage == .stage2,
                     "ShardedAdamW is ZeRO-1/2: stage 0 uses AdamW with GradientAverager, stage 3 ParameterShards")
        self.stage = stage
        self.group = group
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.offloadMoments = offloadMoments
        var seen = Set<ObjectIdentifier>()
        let trainable = parameters.filter { $0.parameter.trainable && seen.insert(ObjectIdentifier($0.parameter)).inserted }
        groups = [("decay", weightDecay, true), ("no_decay", 0.0, false)].compactMap { name, wd, decays in
            let members = trainable.filter { $0.decays == decays }.map { ($0.name, $0.parameter) }
            return members.isEmpty ? nil : Group(name: name, weightDecay: wd, members: members, worldSize: group.worldSize,
                                                 bucketCapacity: bucketCapacity)
        }
        inBackward = stage == .stage2 ? InBackwardReduction(layouts: groups.map(\.layout)) : nil
        let rank = group.rank
        let arena = offloadMoments
            ? OptimizerKernels.momentArena(for: group.device, values: 2 * groups.reduce(0) { $0 + $1.layout.buckets.reduce(0) { $0 + $1.chunk } })
            : nil
        Autograd.noGrad {
            for g in groups {
                for b in g.layout.buckets.indices {
                    let bucket = g.layout.buckets[b]
                    let flat = g.layout.flatten(bucket: b, g.parameters.map { $0.value }, dtype: .float32, device: group.device)
                    g.master.append(flat.narrow(0, start: rank * bucket.chunk, length: bucket.chunk).clone())
                    g.expAvg.append(OptimizerKernels.momentBuffer([bucket.chunk], device: group.device, offloadTo: arena))
                    g.expAvgSq.append(OptimizerKernels.momentBuffer([bucket.chunk], device: group.device, offloadTo: arena))
                    g.steps.append(Tensor.zeros([], device: group.device))
                    g.gradients.append(nil)
                }
            }
        }
        if inBackward != nil { installGradientHooks() }
    }

    /// Values of this rank's AdamW moments (`exp_avg` and `exp_avg_sq` together).
    public var momentValues: Int { groups.reduce(0) { $0 + 2 * $1.expAvg.reduce(0) { $0 + $1.count } } }

    /// Names of the parameters this optimiser updates (decay group first).
    public var parameterNames: [String] { groups.flatMap(\.names) }

    /// This rank's averaged gradient chunks (after `reduceGradients()`), for `GradScaler.unscale`.
    public var shardGradients: [Tensor] { groups.flatMap { $0.gradients.compactMap { $0 } } }

    /// Averages the gradients over all ranks into this rank's chunks and drops the parameters' `.grad`
    /// (stage 2: those the backward passes left, e.g. gradients set by hand; then the ranks check that
    /// they reduced alike).
    public func reduceGradients() throws {
        if let inBackward {
            if !inBackward.passFinished { try finishBackward() }
            try checkReductionOrder()
            return
        }
        let rank = group.rank
        for g in groups {
            var pending: (bucket: Int, flat: Tensor, work: Work)?
            func finish() throws {
                guard let (b, flat, work) = pending else { return }
                try work.wait()
                let size = g.layout.buckets[b].chunk
                g.gradients[b] = flat.narrow(0, start: rank * size, length: size).clone()
                pending = nil
            }
            for b in g.layout.buckets.indices {
                let bucket = g.layout.buckets[b]
                let members = g.parameters[bucket.members]
                let flat = g.layout.flatten(bucket: b, g.parameters.map { $0.value.grad }, dtype: .float32, device: group.device)
                // The flat copy holds them now: free the full gradients before the next bucket is built.
                for p in members { p.value.zeroGrad() }
                let work = try group.allReduceAsync(flat, .average)
                try finish()
                pending = (b, flat, work)
            }
            try finish()
        }
    }

    /// Clips the sharded gradients to a global 2-norm as `torch.nn.utils.clip_grad_norm_` does
    /// (factor min(1, maxNorm / (norm + 1e-6))) and returns the norm before clipping — the same on
    /// every rank (one all-reduce of the squared local norms).
    public func clipGradients(maxNorm: Double) throws -> Double {
        try ShardedClipping.clip(shardGradients, maxNorm: maxNorm, group: group)
    }

    /// One AdamW update of this rank's shards at learning rate `lr`, then every rank's parameters
    /// receive the updated weights (all-gather per bucket). Needs `reduceGradients()` first.
    public func step(lr: Double) throws {
        for g in groups {
            let buckets = g.layout.buckets.indices.filter { g.layout.buckets[$0].chunk > 0 }
            guard buckets.allSatisfy({ g.gradients[$0] != nil }) else {
                preconditionFailure("ShardedAdamW.step before reduceGradients()")
            }
            guard !buckets.isEmpty else { continue }
            OptimizerKernels.fusedAdamW(
                params: buckets.map { g.master[$0] }, grads: buckets.compactMap { g.gradients[$0] },
                expAvgs: buckets.map { g.expAvg[$0] }, expAvgSqs: buckets.map { g.expAvgSq[$0] },
                steps: buckets.map { g.steps[$0] }, lr: lr, beta1: beta1, beta2: beta2, weightDecay: g.weightDecay, eps: eps,
                streamingMoments: offloadMoments)
        }
        try gatherWeights()
    }

    /// Writes the master weights into every rank's parameters (all-gather per bucket). Every rank must call it.
    public func gatherWeights() throws {
        for g in groups {
            for b in g.layout.buckets.indices {
                let bucket = g.layout.buckets[b]
                guard let dtype = g.parameters[bucket.members].first?.value.dtype else { continue }
                let full = Tensor.empty([bucket.paddedCount], dtype: dtype, device: group.device)
                try group.allGather(into: full, g.master[b].to(dtype).contiguous())
                Autograd.noGrad {
                    for i in bucket.members {
                        let p = g.parameters[i].value
                        p.copy_(g.layout.piece(of: full, bucket: b, member: i, shape: p.shape))
                    }
                }
            }
        }
    }

    /// Forgets the gradient chunks (and any `.grad` left on the parameters).
    public func zeroGradients() {
        if let inBackward {
            inBackward.arrived = inBackward.arrived.map { $0.map { _ in [] } }
            inBackward.passFinished = false
        }
        for g in groups {
            for b in g.gradients.indices { g.gradients[b] = nil }
            for p in g.parameters { p.value.zeroGrad() }
        }
    }

    /// The whole optimiser state under `AdamW.stateDict()`'s names (`<param>.exp_avg`, `.exp_avg_sq`,
    /// `.step`), plus `<param>.master` (float32), gathered from every rank. Every rank must call it;
    /// it holds the full state in memory, so it is for tests and conversions of small models.
    public func consolidatedState() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for g in groups {
            for b in g.layout.buckets.indices {
                let bucket = g.layout.buckets[b]
                for (kind, shards) in [("master", g.master), ("exp_avg", g.expAvg), ("exp_avg_sq", g.expAvgSq)] {
                    let full = Tensor.empty([bucket.paddedCount], device: group.device)
                    try group.allGather(into: full, shards[b].to(device: group.device))
                    for i in bucket.members {
                        out[g.names[i] + "." + kind] = g.layout.piece(of: full, bucket: b, member: i, shape: g.parameters[i].value.shape).clone()
                    }
                }
                for i in bucket.members { out[g.names[i] + ".step"] = g.steps[b].clone() }
            }
        }
        return out
    }
}
