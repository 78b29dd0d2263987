import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Sharded optimizer state on disk, re-shardable to any world size.
///
/// Each rank writes `zero-rank-RRRRR-of-WWWWW.safetensors` into the folder. The layout is the
/// consolidated one: for each weight-decay group (`decay`, `no_decay`) the trainable parameters are
/// laid end to end (unpadded, in order — listed in the metadata as `<group>.parameters`, one
/// `name=count` per line), and a file holds the pieces of that flat vector its rank owned, as
/// tensors named `<group>.<kind>@<offset>` (kind `master`, `exp_avg`, `exp_avg_sq`; offset into the
/// flat vector). `<group>.step` in the metadata is AdamW's step count. Padding is never written.
///
/// Loading at any world size computes this rank's chunks from the new layout and copies the
/// overlapping parts of every file's pieces (memory-mapped, so a rank reads only what it needs),
/// checking that the parameters match and that every element is covered exactly.
extension ShardedAdamW {
    public static let stateFormat = "svco-zero-adamw-1"

    static func fileName(rank: Int, worldSize: Int) -> String {
        func five(_ n: Int) -> String { String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n) }
        return "zero-rank-\(five(rank))-of-\(five(worldSize)).safetensors"
    }

    /// Writes this rank's shard into `directory` (created if needed) and waits until every rank has
    /// written its own, so the folder is complete when this returns on any rank.
    public func saveState(to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DistributedError.checkpoint(path: directory, reason: "cannot create the folder: \(error)")
        }
        var tensors: [String: Tensor] = [:]
        var metadata = ["format": Self.stateFormat, "world_size": String(group.worldSize), "rank": String(group.rank),
                        "stage": String(stage.rawValue)]
        for g in groups {
            metadata[g.name + ".parameters"] = zip(g.names, g.layout.counts).map { "\($0)=\($1)" }.joined(separator: "\n")
            metadata[g.name + ".step"] = String(g.steps.first.map { $0.item().doubleValue } ?? 0)
            for b in g.layout.buckets.indices {
                let owned = g.layout.ownedRange(bucket: b, rank: group.rank)
                guard !owned.isEmpty else { continue }
                for (kind, shards) in [("master", g.master), ("exp_avg", g.expAvg), ("exp_avg_sq", g.expAvgSq)] {
                    tensors["\(g.name).\(kind)@\(owned.lowerBound)"] = shards[b].narrow(0, start: 0, length: owned.count)
                }
            }
        }
        let path = directory + "/" + Self.fileName(rank: group.rank, worldSize: group.worldSize)
        try SafetensorsWriter.write(tensors, metadata: metadata, to: path)
        try group.barrier()
    }

    /// Restores the state `saveState(to:)` wrote at any world size, then writes the master weights into
    /// the parameters on every rank. Every rank must call it. Throws naming the folder or file when the
    /// state is missing, incomplete, or was saved for other parameters.
    public func loadState(from directory: String) throws {
        let files = try Self.stateFiles(in: directory)
        for g in groups {
            let expected = zip(g.names, g.layout.counts).map { "\($0)=\($1)" }
            var step: Double?
            for file in files {
                let saved = file.metadata[g.name + ".parameters"].map { $0.split(separator: "\n").map(String.init) } ?? []
                if saved != expected {
                    let first = zip(saved, expected).first { $0 != $1 }.map { "saved '\($0)' vs now '\($1)'" }
                        ?? "\(saved.count) parameters saved vs \(expected.count) now"
                    throw DistributedError.checkpoint(path: file.path, reason: "optimizer state of group '\(g.name)' was saved for other trainable parameters (\(first))")
                }
                guard let text = file.metadata[g.name + ".step"], let value = Double(text) else {
                    throw DistributedError.checkpoint(path: file.path, reason: "metadata '\(g.name).step' is missing or not a number")
                }
                if let step, step != value {
                    throw DistributedError.checkpoint(path: file.path, reason: "step \(value) differs from another rank's \(step)")
                }
                step = value
            }
            // Pieces of every file: (offset, tensor) per kind.
            var pieces: [String: [(Int, Tensor, String)]] = [:]
            for file in files {
                for name in file.names where name.hasPrefix(g.name + ".") {
                    let rest = name.dropFirst(g.name.count + 1)
                    guard let at = rest.firstIndex(of: "@"), let offset = Int(rest[rest.index(after: at)...]) else { continue }
                    let tensor = try file.tensor(name)
                    pieces[String(rest[..<at]), default: []].append((offset, tensor, file.path))
                }
            }
            for b in g.layout.buckets.indices {
                let owned = g.layout.ownedRange(bucket: b, rank: group.rank)
                for (kind, shards) in [("master", g.master), ("exp_avg", g.expAvg), ("exp_avg_sq", g.expAvgSq)] {
                    let target = shards[b]
                    var covered = 0
                    Autograd.noGrad {
                        target.zero_()
                        for (offset, tensor, _) in pieces[kind] ?? [] {
                            let lo = max(offset, owned.lowerBound), hi = min(offset + tensor.count, owned.upperBound)
                            guard lo < hi else { continue }
                            target.narrow(0, start: lo - owned.lowerBound, length: hi - lo)
                                .copy_(tensor.narrow(0, start: lo - offset, length: hi - lo))
                            covered += hi - lo
                        }
                    }
                    guard covered == owned.count else {
                        throw DistributedError.checkpoint(path: directory, reason: "'\(g.name).\(kind)' covers \(covered) of the \(owned.count) elements \(owned) rank \(group.rank) needs (files missing or overlapping)")
                    }
                }
                g.steps[b].fill_(Scalar(step ?? 0))
            }
        }
        try gatherWeights()
    }

    /// The state files of one save, all ranks present and of one world size.
    static func stateFiles(in directory: String) throws -> [SafetensorsFile] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw DistributedError.checkpoint(path: directory, reason: "cannot list the folder: \(error)")
        }
        var byRank: [Int: String] = [:]
        var worlds = Set<Int>()
        for name in names where name.hasPrefix("zero-rank-") && name.hasSuffix(".safetensors") {
            let parts = name.dropFirst("zero-rank-".count).dropLast(".safetensors".count).split(separator: "-")
            guard parts.count == 3, parts[1] == "of", let r = Int(parts[0]), let w = Int(parts[2]) else {
                throw DistributedError.checkpoint(path: directory + "/" + name, reason: "not a zero-rank-R-of-W.safetensors name")
            }
            byRank[r] = name
            worlds.insert(w)
        }
        guard let world = worlds.first else {
            throw DistributedError.checkpoint(path: directory, reason: "holds no ZeRO optimizer state (zero-rank-*-of-*.safetensors)")
        }
        guard worlds.count == 1 else {
            throw DistributedError.checkpoint(path: directory, reason: "holds state of several world sizes (\(worlds.sorted()))")
        }
        let missing = (0..<world).filter { byRank[$0] == nil }
        guard missing.isEmpty, byRank.count == world else {
            throw DistributedError.checkpoint(path: directory, reason: "state saved by \(world) ranks lacks rank(s) \(missing.map(String.init).joined(separator: ", "))")
        }
        return try (0..<world).map { r in
            let path = directory + "/" + (byRank[r] ?? "")
            let file = try SafetensorsFile(path: path)
            guard file.metadata["format"] == stateFormat else {
                throw DistributedError.checkpoint(path: path, reason: "format '\(file.metadata["format"] ?? "none")', expected '\(stateFormat)'")
            }
            return file
        }
    }
}
