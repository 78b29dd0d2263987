import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// ShardedAdamW's state on disk (`ShardedStateFiles`' format): saved per rank, loaded at any world
/// size by computing this rank's chunks from the new layout and copying the overlapping parts of every
/// file's pieces (memory-mapped, so a rank reads only what it needs), after checking that the
/// parameters match and that every element is covered exactly.
extension ShardedAdamW {
    public static var stateFormat: String { ShardedStateFiles.format }

    /// Writes this rank's shard into `directory` (created if needed) and waits until every rank has
    /// written its own, so the folder is complete when this returns on any rank.
    public func saveState(to directory: String) throws {
        try writeShard(to: directory)
        try group.barrier()
    }

    /// Writes this rank's shard into `directory` (created if needed) without waiting for the others:
    /// a caller that must agree on success first (a failed write on one rank must not leave the others
    /// waiting in a barrier) follows it with its own collective.
    public func writeShard(to directory: String) throws {
        var tensors: [String: Tensor] = [:]
        for g in groups {
            for b in g.layout.buckets.indices {
                let owned = g.layout.ownedRange(bucket: b, rank: group.rank)
                guard !owned.isEmpty else { continue }
                for (kind, shards) in [("master", g.master), ("exp_avg", g.expAvg), ("exp_avg_sq", g.expAvgSq)] {
                    tensors["\(g.name).\(kind)@\(owned.lowerBound)"] = shards[b].narrow(0, start: 0, length: owned.count)
                }
            }
        }
        try ShardedStateFiles.write(
            pieces: tensors,
            groups: groups.map { g in (g.name, zip(g.names, g.layout.counts).map { ($0, $1) }, g.steps.first.map { $0.item().doubleValue } ?? 0) },
            rank: group.rank, worldSize: group.worldSize, stage: stage.rawValue, to: directory)
    }

    /// Restores the state `saveState(to:)` wrote at any world size, then (with `gather`, the default)
    /// writes the master weights into the parameters on every rank — a collective, so every rank must
    /// call it. With `gather: false` nothing is communicated: a caller that agrees on success first
    /// calls `gatherWeights()` afterwards. Throws naming the folder or file when the state is missing,
    /// incomplete, or was saved for other parameters.
    public func loadState(from directory: String, gather: Bool = true) throws {
        let saved = try ShardedStateFiles.Saved(directory: directory)
        for g in groups {
            try saved.check(group: g.name, expected: zip(g.names, g.layout.counts).map { ($0, $1) })
            let step = try saved.step(group: g.name)
            for b in g.layout.buckets.indices {
                let owned = g.layout.ownedRange(bucket: b, rank: group.rank)
                for (kind, shards) in [("master", g.master), ("exp_avg", g.expAvg), ("exp_avg_sq", g.expAvgSq)] {
                    shards[b].zero_()
                    try saved.copy(group: g.name, kind: kind, range: owned, into: shards[b].narrow(0, start: 0, length: owned.count))
                }
                g.steps[b].fill_(Scalar(step))
            }
        }
        if gather { try gatherWeights() }
    }

    /// Restores unsharded AdamW state (`AdamW.stateDict()`'s names: `<param>.exp_avg`, `.exp_avg_sq`,
    /// `.step`; `.master` when present) — a checkpoint of a single-process or ZeRO-0 run — into this
    /// rank's shards. Without `.master` the master weights are the parameters' current values (svco
    /// keeps float32 weights, so those are the master copy). Every rank reads what it owns; then, with
    /// `gather`, the weights are all-gathered from the masters as in `loadState(from:gather:)`.
    public func loadConsolidated(_ state: [String: Tensor], source: String, gather: Bool = true) throws {
        for g in groups {
            // AdamW counts steps per parameter; a run where every trainable parameter got a gradient has
            // one count. The shard keeps one per bucket: its first member's.
            for b in g.layout.buckets.indices {
                let bucket = g.layout.buckets[b]
                let owned = g.layout.ownedRange(bucket: b, rank: group.rank)
                for (kind, shards) in [("master", g.master), ("exp_avg", g.expAvg), ("exp_avg_sq", g.expAvgSq)] {
                    let target = shards[b]
                    try Autograd.noGrad {
                        target.zero_()
                        for i in bucket.members {
                            let start = g.layout.offsets[i], count = g.layout.counts[i]
                            let lo = max(start, owned.lowerBound), hi = min(start + count, owned.upperBound)
                            guard lo < hi else { continue }
                            let full = try Self.unsharded(state, name: g.names[i], kind: kind, count: count, source: source,
                                                          current: g.parameters[i].value)
                            target.narrow(0, start: lo - owned.lowerBound, length: hi - lo)
                                .copy_(full.narrow(0, start: lo - start, length: hi - lo))
                        }
                    }
                }
                guard let first = bucket.members.first else { continue }
                guard let step = state[g.names[first] + ".step"] else {
                    throw DistributedError.checkpoint(path: source, reason: "optimizer state '\(g.names[first]).step' is missing")
                }
                g.steps[b].fill_(step.item())
            }
        }
        if gather { try gatherWeights() }
    }

    /// Parameter `name`'s flat `kind` values in an unsharded state dict (`master` defaults to `current`,
    /// the parameter's own float32 value).
    static func unsharded(_ state: [String: Tensor], name: String, kind: String, count: Int, source: String, current: Tensor?) throws -> Tensor {
        let key = name + "." + kind
        if let saved = state[key] {
            guard saved.count == count else {
                throw DistributedError.checkpoint(path: source, reason: "'\(key)' holds \(saved.count) values, the parameter \(count)")
            }
            return saved.detach().reshape([-1])
        }
        if kind == "master", let current { return current.detach().reshape([-1]) }
        throw DistributedError.checkpoint(path: source, reason: "optimizer state '\(key)' is missing")
    }

    /// The state `saveState(to:)` wrote (at any world size, by any ZeRO stage) as one unsharded AdamW
    /// state dict, under `AdamW.stateDict()`'s names and each parameter's shape from `shapes` — for
    /// resuming a sharded checkpoint in one process or under ZeRO-0. Needs no process group.
    public static func consolidatedState(from directory: String, shapes: [String: [Int]]) throws -> [String: Tensor] {
        let saved = try ShardedStateFiles.Saved(directory: directory)
        var out: [String: Tensor] = [:]
        for groupName in ["decay", "no_decay"] {
            guard let members = try saved.members(group: groupName) else { continue }
            let step = try saved.step(group: groupName)
            var offset = 0
            for m in members {
                guard let shape = shapes[m.name] else {
                    throw DistributedError.checkpoint(path: directory, reason: "optimizer state of '\(m.name)', which this model does not train")
                }
                guard shape.reduce(1, *) == m.count else {
                    throw DistributedError.checkpoint(path: directory, reason: "'\(m.name)' was saved with \(m.count) values, the parameter has shape \(shape)")
                }
                for kind in ShardedStateFiles.kinds {
                    let values = Tensor.zeros([m.count])
                    try saved.copy(group: groupName, kind: kind, range: offset..<(offset + m.count), into: values)
                    out[m.name + "." + kind] = values.view(shape)
                }
                out[m.name + ".step"] = Tensor.full([], Scalar(step), dtype: .float32)
                offset += m.count
            }
        }
        return out
    }
}
