import NN
import Torch

/// ZeRO-3's checkpoints: the whole weights gathered one block at a time for rank 0 to save, whole
/// weights loaded into the shards, and each rank's optimiser state in `ShardedStateFiles`' format
/// (shared with ZeRO-1/2, so any stage at any world size resumes from it).
extension ParameterShards {
    // MARK: whole weights

    /// Runs `body` with every parameter whole — on rank 0 as CPU copies (so no device ever holds the
    /// whole model), freed again afterwards; on the other ranks `body` runs with the blocks released.
    /// Every rank must call it (one all-gather per unit part).
    public func withWholeWeights(_ body: () throws -> Void) throws {
        settlePrefetch()
        for unit in units where !unit.resident {
            // One block at a time on the device: rank 0 moves each to the CPU before the next.
            gather(unit, counted: false)
            try throwIfFailed()
            if group.isMain {
                for part in unit.parts {
                    for p in part.parameters { p.value = p.value.detach().to(device: .cpu).clone() }
                }
            } else {
                release(unit)
            }
            unit.awaitsGradients = false
        }
        defer {
            for unit in units where !unit.resident { release(unit) }
        }
        try body()
    }

    /// Loads whole weights by name (a checkpoint's `model.safetensors`) into this rank's chunks, and
    /// into the resident parameters. Parameters not named in `names` (the frozen models') keep theirs.
    public func loadWeights(_ tensors: [String: Tensor], names: Set<String>, source: String) throws {
        settlePrefetch()
        for unit in units {
            for part in unit.parts where !part.layout.buckets.isEmpty {
                guard part.names.allSatisfy({ names.contains($0) }) else { continue }
                let owned = part.layout.ownedRange(bucket: 0, rank: group.rank)
                try Autograd.noGrad {
                    for (i, name) in part.names.enumerated() {
                        guard let t = tensors[name] else { throw DistributedError.checkpoint(path: source, reason: "no tensor '\(name)'") }
                        guard t.shape == part.shapes[i] else {
                            throw DistributedError.checkpoint(path: source, reason: "'\(name)' has shape \(t.shape), the model \(part.shapes[i])")
                        }
                        if unit.resident { part.parameters[i].value.copy_(t) }
                        let start = part.layout.offsets[i]
                        let lo = max(start, owned.lowerBound), hi = min(start + part.layout.counts[i], owned.upperBound)
                        guard lo < hi else { continue }
                        part.shard.narrow(0, start: lo - owned.lowerBound, length: hi - lo)
                            .copy_(t.reshape([-1]).narrow(0, start: lo - start, length: hi - lo))
                    }
                }
            }
        }
    }

    // MARK: optimiser state on disk

    /// The canonical flat offset of each trainable parameter in its group (the files' layout).
    var canonicalOffsets: [String: (group: String, offset: Int)] {
        var out: [String: (group: String, offset: Int)] = [:]
        for g in canonical {
            var offset = 0
            for m in g.members {
                out[m.name] = (g.group, offset)
                offset += m.count
            }
        }
        return out
    }

    /// For each trainable part, each member's piece of this rank's chunk: (member, range in the member,
    /// range in the chunk).
    func ownedPieces(_ part: Part) -> [(member: Int, inMember: Range<Int>, inChunk: Range<Int>)] {
        guard !part.layout.buckets.isEmpty else { return [] }
        let owned = part.layout.ownedRange(bucket: 0, rank: group.rank)
        return part.names.indices.compactMap { i in
            let start = part.layout.offsets[i]
            let lo = max(start, owned.lowerBound), hi = min(start + part.layout.counts[i], owned.upperBound)
            guard lo < hi else { return nil }
            return (i, (lo - start)..<(hi - start), (lo - owned.lowerBound)..<(hi - owned.lowerBound))
        }
    }

    /// Writes this rank's file of `ShardedStateFiles`' format into `directory` (no collective).
    public func writeState(to directory: String) throws {
        let offsets = canonicalOffsets
        var pieces: [String: Tensor] = [:]
        var steps: [String: Double] = [:]
        for part in trainableParts {
            for piece in ownedPieces(part) {
                guard let at = offsets[part.names[piece.member]] else { continue }
                let offset = at.offset + piece.inMember.lowerBound
                for (kind, source) in [("master", part.shard), ("exp_avg", part.expAvg), ("exp_avg_sq", part.expAvgSq)] {
                    guard let source else { continue }
                    pieces["\(at.group).\(kind)@\(offset)"] = source.narrow(0, start: piece.inChunk.lowerBound, length: piece.inChunk.count)
                }
                steps[at.group] = part.step?.item().doubleValue ?? 0
            }
        }
        try ShardedStateFiles.write(pieces: pieces, groups: canonical.map { ($0.group, $0.members, steps[$0.group] ?? 0) },
                                    rank: group.rank, worldSize: group.worldSize, stage: 3, to: directory)
    }

    /// Restores state written by any ZeRO stage at any world size (`ShardedStateFiles`), or unsharded
    /// AdamW state (`unsharded`, with `.master` optional: the current chunk is kept), into this rank's
    /// chunks; then, with `gather`, the resident weights from their chunks (a collective: every rank
    /// calls it; without, call `gatherResident()` once every rank has read its state).
    public func loadState(from directory: String?, unsharded: [String: Tensor]?, source: String, gather: Bool = true) throws {
        settlePrefetch()
        let saved = try directory.map { try ShardedStateFiles.Saved(directory: $0) }
        if let saved {
            for g in canonical { try saved.check(group: g.group, expected: g.members) }
        }
        let offsets = canonicalOffsets
        for part in trainableParts {
            for piece in ownedPieces(part) {
                let name = part.names[piece.member]
                guard let at = offsets[name] else { continue }
                let canonicalRange = (at.offset + piece.inMember.lowerBound)..<(at.offset + piece.inMember.upperBound)
                for (kind, target) in [("master", part.shard), ("exp_avg", part.expAvg), ("exp_avg_sq", part.expAvgSq)] {
                    guard let target else { continue }
                    let slot = target.narrow(0, start: piece.inChunk.lowerBound, length: piece.inChunk.count)
                    if let saved {
                        try saved.copy(group: at.group, kind: kind, range: canonicalRange, into: slot)
                    } else if let unsharded {
                        let count = part.layout.counts[piece.member]
                        guard kind != "master" || unsharded[name + ".master"] != nil else { continue }
                        let full = try ShardedAdamW.unsharded(unsharded, name: name, kind: kind, count: count, source: source, current: nil)
                        Autograd.noGrad { slot.copy_(full.narrow(0, start: piece.inMember.lowerBound, length: piece.inMember.count)) }
                    }
                }
                let step: Double
                if let saved {
                    step = try saved.step(group: at.group)
                } else if let t = unsharded?[name + ".step"] {
                    step = t.item().doubleValue
                } else {
                    throw DistributedError.checkpoint(path: source, reason: "optimizer state '\(name).step' is missing")
                }
                part.step?.fill_(Scalar(step))
            }
        }
        if gather { try gatherResident() }
    }
}
