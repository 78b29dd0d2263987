import NN
import Torch

/// ZeRO stages in DeepSpeed's numbering, which the reference's users know.
public enum ZeroStage: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Plain data parallel: gradients all-reduced, every rank holds and updates everything.
    case stage0 = 0
    /// AdamW state and float32 master weights sharded; gradients all-reduced.
    case stage1 = 1
    /// Stage 1 plus gradients reduce-scattered: each rank keeps only its shard of them.
    case stage2 = 2

    /// The stage for a number from a flag or a DeepSpeed config; throws naming `source` for others
    /// (stage 3 needs per-layer parameter gathering in the model, not built yet).
    public init(number: Int, source: String) throws {
        if number == 3 {
            throw DistributedError.setting(name: source, reason: "ZeRO stage 3 (parameter sharding) is not implemented yet; use 0, 1 or 2")
        }
        guard let stage = ZeroStage(rawValue: number) else {
            throw DistributedError.setting(name: source, reason: "\(number) is not a ZeRO stage (0, 1, 2)")
        }
        self = stage
    }

    public var description: String { "ZeRO-\(rawValue)" }
}

/// Stage 0: averages the trainable parameters' gradients over all ranks once per optimiser step (after
/// the last micro-batch of the accumulation window, not per micro-batch), in flat padded buckets, and
/// writes them back into `.grad`. Every rank then holds the same gradients, so clipping, the fp16
/// found-inf check and the unchanged single-process `AdamW` step agree on every rank without further
/// communication.
///
/// A parameter that got no gradient on any rank keeps none (AdamW skips it, as in one process); one
/// that got a gradient on some ranks only receives the average with zeros for the others (as DDP).
public final class GradientAverager {
    public let group: ProcessGroup
    public let layout: FlatLayout
    let parameters: [Parameter]

    /// `parameters`: the trainable parameters, in the same order on every rank (duplicates, as with
    /// tied weights, are kept once).
    public init(parameters: [Parameter], group: ProcessGroup, bucketCapacity: Int = FlatLayout.defaultBucketCapacity) {
        var seen = Set<ObjectIdentifier>()
        self.parameters = parameters.filter { seen.insert(ObjectIdentifier($0)).inserted }
        self.group = group
        layout = FlatLayout(counts: self.parameters.map { $0.value.count }, worldSize: group.worldSize, bucketCapacity: bucketCapacity)
    }

    /// All-reduces (average) every bucket of gradients in place. Throws if a collective fails.
    public func averageGradients() throws {
        let grads = parameters.map { $0.value.grad }
        // Which parameters have a gradient anywhere: one small collective for the whole model.
        let present = Tensor(grads.map { $0 == nil ? Float(0) : 1 }).to(device: group.device)
        try group.allReduce(present, .max)
        let anywhere = present.toArray(Float.self).map { $0 != 0 }
        // One bucket in flight while the next is flattened.
        var pending: (bucket: Int, flat: Tensor, work: Work)?
        func finish() throws {
            guard let (b, flat, work) = pending else { return }
            try work.wait()
            Autograd.noGrad {
                for i in layout.buckets[b].members where anywhere[i] {
                    let p = parameters[i].value
                    let averaged = layout.piece(of: flat, bucket: b, member: i, shape: p.shape)
                    if let g = p.grad { g.copy_(averaged) } else { p.grad = averaged.to(p.dtype).clone() }
                }
            }
            pending = nil
        }
        for b in layout.buckets.indices {
            let flat = layout.flatten(bucket: b, grads, dtype: .float32, device: group.device)
            let work = try group.allReduceAsync(flat, .average)
            try finish()
            pending = (b, flat, work)
        }
        try finish()
    }
}
