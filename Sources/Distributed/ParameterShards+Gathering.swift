import NN
import Torch

/// ZeRO-3's gathers. A block's parameters are all-gathered right before it runs; and while it runs,
/// the gather of the block the pass needs next is already in flight (in a forward pass the one the
/// model says it runs next; in a backward pass's recomputation, which goes back over the blocks that
/// ran, the one before it in its layered module), so that communication overlaps computation as
/// DeepSpeed's prefetching does. Every rank makes the same choices from the same program, so the
/// collectives still pair up in order. A gather started ahead of a block that does not come is
/// finished and freed at the next gather, at the end of the backward pass, and before anything writes
/// the shards.
extension ParameterShards {
    /// A unit's collectives in flight, with the buffers they read and write.
    struct PendingGather {
        let unit: Unit
        let transfers: [(part: Part, full: Tensor, send: Tensor, work: Work?)]
        /// Gradient recording when it started: the unit's parameters will record theirs.
        let recordsGradients: Bool
        let counted: Bool
    }

    /// Every parameter of `unit` whole again, from all ranks' chunks; trainable ones as fresh leaves
    /// that record their gradient. `counted`: a gather of the training passes, which may carry a
    /// part in its `wireDType` (the statistics too); otherwise (whole weights to save) in its own.
    func gather(_ unit: Unit, counted: Bool = true) {
        settlePrefetch(using: unit)
        guard !unit.gathered else { return }
        finishGather(startGather(unit, counted: counted))
    }

    func startGather(_ unit: Unit, counted: Bool) -> PendingGather {
        var transfers: [(part: Part, full: Tensor, send: Tensor, work: Work?)] = []
        for part in unit.parts where !part.layout.buckets.isEmpty {
            let wire = counted ? part.wireDType : part.dtype
            let full = Tensor.empty([part.paddedCount], dtype: wire, device: group.device)
            let send = wire == part.dtype ? part.shard : part.shard.to(wire)
            var work: Work?
            if failure == nil {
                do { work = try group.allGatherAsync(into: full, send) } catch { failure = error }
            }
            transfers.append((part, full, send, work))
        }
        return PendingGather(unit: unit, transfers: transfers, recordsGradients: Autograd.isEnabled, counted: counted)
    }

    func finishGather(_ pending: PendingGather) {
        let unit = pending.unit
        for (part, received, _, work) in pending.transfers {
            if let work, failure == nil {
                do { try work.wait() } catch { failure = error }
            }
            var full = received
            if failure != nil { full.zero_() }
            if pending.counted && !unit.resident { gatheredValues[full.dtype, default: 0] += part.paddedCount }
            if full.dtype != part.dtype { full = full.to(part.dtype) }
            Autograd.noGrad {
                for (i, p) in part.parameters.enumerated() {
                    let piece = part.layout.piece(of: full, bucket: 0, member: i, shape: part.shapes[i]).detach()
                    p.value = part.trainable ? piece.requiresGrad(true) : piece
                }
            }
        }
        unit.gathered = true
        unit.awaitsGradients = unit.trainable && pending.recordsGradients
        if !unit.resident && pending.counted {
            blockGathers += 1
            noteWholeBlocks()
        }
    }

    /// Finishes the gather started ahead, if any; unless it was `unit`'s, frees it again.
    func settlePrefetch(using unit: Unit? = nil) {
        guard let pending = prefetch else { return }
        prefetch = nil
        finishGather(pending)
        if pending.unit !== unit { release(pending.unit) }
    }

    func noteWholeBlocks() {
        let whole = units.filter { !$0.resident && $0.gathered }.count + (prefetch == nil ? 0 : 1)
        peakWholeBlocks = Swift.max(peakWholeBlocks, whole)
    }
}

extension ParameterShards: LayerHooks {
    public func willRun(_ block: Module, next nextBlock: Module?) {
        guard let index = unitOfBlock[ObjectIdentifier(block)] else { return }
        gather(units[index])
        // The block this pass runs next: `nextBlock` going forward; the one before in a backward pass's
        // recomputation (gradients recorded). One whole already (a block run with gradients, not
        // checkpointed, awaiting its backward pass) is not gathered again.
        let next = Autograd.isEnabled ? neighbours[index] : nextBlock.flatMap { unitOfBlock[ObjectIdentifier($0)] }
        guard let next, !units[next].gathered else { return }
        prefetch = startGather(units[next], counted: true)
        prefetches += 1
        noteWholeBlocks()
    }

    public func didRun(_ block: Module) {
        guard let index = unitOfBlock[ObjectIdentifier(block)] else { return }
        // With gradients recorded, the backward pass reads the parameters again (and reduces them).
        if !Autograd.isEnabled && !units[index].awaitsGradients { release(units[index]) }
    }

    public func didBackward(_ block: Module) {
        guard let index = unitOfBlock[ObjectIdentifier(block)] else { return }
        let unit = units[index]
        if unit.awaitsGradients { reduceGradients(unit) }
        release(unit)
    }
}
