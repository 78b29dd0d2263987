import NN
import Torch

/// ZeRO-2 reduces the gradients while the backward pass produces them, as DeepSpeed's stage 2 does, so
/// that a rank never holds the whole model's gradients: only its float32 chunk of their average and
/// the buckets the backward pass is still filling.
///
/// Every trainable parameter carries a post-accumulate-grad hook. A bucket is reduce-scattered
/// (averaged over ranks) as soon as each of its members has accumulated a gradient since the bucket was
/// last reduced; this rank's chunk is added to the step's gradient (summed over micro-batches) and the
/// members' `.grad` are dropped. One reduction is in flight while the backward pass goes on. Under
/// reentrant checkpointing a block's parameters accumulate once per forward pass of the micro-batch
/// (svco runs the image rows and the text rows as two), so such a bucket is reduced once per forward —
/// DeepSpeed refuses that case; the sum of the averages is the average of the sums. When the backward
/// pass ends (`finishBackward`), every bucket still holding gradients, or not reduced at all in this
/// pass, is reduced in bucket order.
///
/// Collectives match by order, so every rank must reduce the same buckets in the same order. They do,
/// because every rank runs the same program on a micro-batch of the same shape (the same sequence
/// kinds and record count) — and it is checked: at the optimiser step the ranks compare the number and
/// an order-sensitive hash of the reductions since the last step, and throw `.mismatch` rather than
/// step on sums of unrelated buckets.
final class InBackwardReduction {
    /// Per group, per bucket: the members that accumulated a gradient since the bucket was last reduced.
    var arrived: [[Set<Int>]]
    /// Per group, per bucket: whether it was reduced in the current backward pass.
    var reducedThisPass: [[Bool]]
    /// Per group, each member's bucket.
    let bucketOf: [[Int]]
    /// The reduction in flight: its bucket, the flat gradients it reads and the chunk it writes.
    var inFlight: (group: Int, bucket: Int, flat: Tensor, chunk: Tensor, work: Work)?
    /// Reductions since the optimiser step, and their order-sensitive hash (below 2⁵², exact in a Double).
    var count = 0
    var signature = 0
    /// Whether a backward pass finished since the gradients were zeroed (else `reduceGradients()`
    /// reduces gradients that were set by hand, as before any backward pass).
    var passFinished = false
    /// The first collective failure met inside the backward pass, thrown after it.
    var failure: Error?
    /// The most buckets of any group: (group, bucket) → group · stride + bucket numbers them all apart.
    let stride: Int

    init(layouts: [FlatLayout]) {
        arrived = layouts.map { Array(repeating: [], count: $0.buckets.count) }
        reducedThisPass = layouts.map { Array(repeating: false, count: $0.buckets.count) }
        bucketOf = layouts.map { layout in
            var owner = Array(repeating: 0, count: layout.counts.count)
            for (b, bucket) in layout.buckets.enumerated() { for i in bucket.members { owner[i] = b } }
            return owner
        }
        stride = max(1, layouts.map(\.buckets.count).max() ?? 1)
    }

    func record(group g: Int, bucket b: Int) {
        count += 1
        signature = (signature &* 1_000_003 &+ g &* stride &+ b &+ 1) & ((1 << 52) - 1)
    }
}

extension ShardedAdamW {
    /// Stage 2: a hook on every trainable parameter that reduces its bucket once the bucket is complete.
    /// A parameter whose tensor is later replaced (or that records no gradient) has none: its bucket
    /// then waits for `finishBackward()`, which gives the same numbers, only later.
    func installGradientHooks() {
        for (g, group) in groups.enumerated() {
            for (i, p) in group.parameters.enumerated() {
                p.value.onGradientAccumulated { [weak self] in self?.gradientAccumulated(group: g, member: i) }
            }
        }
    }

    func gradientAccumulated(group g: Int, member i: Int) {
        guard let stream = inBackward else { return }
        let b = stream.bucketOf[g][i]
        stream.arrived[g][b].insert(i)
        if stream.arrived[g][b].count == groups[g].layout.buckets[b].members.count { reduceInBackward(group: g, bucket: b) }
    }

    /// Starts the reduce-scatter of bucket `b` of group `g` from its members' `.grad` (absent ones count
    /// as zeros), drops those `.grad`, and finishes the reduction started before it.
    func reduceInBackward(group g: Int, bucket b: Int) {
        guard let stream = inBackward else { return }
        let group = groups[g]
        let bucket = group.layout.buckets[b]
        let (flat, chunk) = Autograd.noGrad {
            (group.layout.flatten(bucket: b, group.parameters.map { $0.value.grad }, dtype: .float32, device: self.group.device),
             Tensor.empty([bucket.chunk], device: self.group.device))
        }
        for i in bucket.members { group.parameters[i].value.zeroGrad() }
        stream.arrived[g][b] = []
        stream.reducedThisPass[g][b] = true
        stream.record(group: g, bucket: b)
        var work: Work?
        if stream.failure == nil {
            do { work = try self.group.reduceScatterAsync(into: chunk, flat, .average) } catch { stream.failure = error }
        }
        finishInFlight()
        if let work { stream.inFlight = (g, b, flat, chunk, work) } else { accumulate(zerosLike: chunk, group: g, bucket: b) }
    }

    /// Waits for the reduction in flight and adds its chunk to the step's gradient.
    func finishInFlight() {
        guard let stream = inBackward, let (g, b, _, chunk, work) = stream.inFlight else { return }
        stream.inFlight = nil
        do { try work.wait() } catch {
            if stream.failure == nil { stream.failure = error }
            chunk.zero_()
        }
        accumulate(chunk, group: g, bucket: b)
    }

    private func accumulate(_ chunk: Tensor, group g: Int, bucket b: Int) {
        Autograd.noGrad {
            if let sum = groups[g].gradients[b] { sum += chunk } else { groups[g].gradients[b] = chunk }
        }
    }

    private func accumulate(zerosLike chunk: Tensor, group g: Int, bucket b: Int) {
        chunk.zero_()
        accumulate(chunk, group: g, bucket: b)
    }

    /// After a micro-batch's backward pass (stage 2; nothing otherwise): reduces, in bucket order, every
    /// bucket that still holds gradients or was not reduced in this pass, then throws a collective
    /// failure met inside it.
    public func finishBackward() throws {
        guard let stream = inBackward else { return }
        for g in groups.indices {
            for b in groups[g].layout.buckets.indices {
                let holds = !stream.arrived[g][b].isEmpty || groups[g].layout.buckets[b].members.contains { groups[g].parameters[$0].value.grad != nil }
                if holds || !stream.reducedThisPass[g][b] { reduceInBackward(group: g, bucket: b) }
            }
        }
        finishInFlight()
        stream.reducedThisPass = stream.reducedThisPass.map { $0.map { _ in false } }
        stream.passFinished = true
        if let failure = stream.failure {
            stream.failure = nil
            throw failure
        }
    }

    /// At the optimiser step (stage 2): every rank must have reduced the same buckets in the same
    /// order since the last step (one small all-reduce of the count and the hash).
    func checkReductionOrder() throws {
        guard let stream = inBackward else { return }
        let (count, signature) = (Double(stream.count), Double(stream.signature))
        stream.count = 0
        stream.signature = 0
        let agreed = try group.allReduce([count, signature, -count, -signature], .max)
        guard agreed[0] == -agreed[2] && agreed[1] == -agreed[3] else {
            throw DistributedError.mismatch(
                what: "ZeRO-2's gradient reductions in the backward pass",
                reason: "the ranks reduced between \(Int(-agreed[2])) and \(Int(agreed[0])) buckets, or in different orders: their "
                    + "micro-batches ran different forward passes (a rank without images?); --zero-stage 1 reduces once per step instead")
        }
    }
}
