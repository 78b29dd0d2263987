import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Sharded AdamW state on disk, one format for ZeRO-1, 2 and 3 and re-shardable to any world size.
///
/// Each rank writes `zero-rank-RRRRR-of-WWWWW.safetensors` into the folder. The layout is the
/// consolidated one: for each weight-decay group (`decay`, `no_decay`) the trainable parameters are
/// laid end to end (unpadded, in the model's parameter order — listed in the metadata as
/// `<group>.parameters`, one `name=count` per line), and a file holds pieces of that flat vector its
/// rank owned, as tensors named `<group>.<kind>@<offset>` (kind `master`, `exp_avg`, `exp_avg_sq`;
/// offset into the flat vector). `<group>.step` in the metadata is AdamW's step count. Padding is
/// never written; how a rank's share was cut (buckets, per-layer units) does not matter to a reader.
public enum ShardedStateFiles {
    public static let format = "svco-zero-adamw-1"
    public static let kinds = ["master", "exp_avg", "exp_avg_sq"]

    static func fileName(rank: Int, worldSize: Int) -> String {
        func five(_ n: Int) -> String { String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n) }
        return "zero-rank-\(five(rank))-of-\(five(worldSize)).safetensors"
    }

    /// The metadata line of a group's parameter list.
    static func parameterList(_ members: [(name: String, count: Int)]) -> String {
        members.map { "\($0.name)=\($0.count)" }.joined(separator: "\n")
    }

    /// Writes one rank's file: `pieces` keyed `<group>.<kind>@<offset>`, with each group's parameter list
    /// and step count. Creates `directory` if needed.
    static func write(pieces: [String: Tensor], groups: [(name: String, members: [(name: String, count: Int)], step: Double)],
                      rank: Int, worldSize: Int, stage: Int, to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DistributedError.checkpoint(path: directory, reason: "cannot create the folder: \(error)")
        }
        var metadata = ["format": format, "world_size": String(worldSize), "rank": String(rank), "stage": String(stage)]
        for g in groups {
            metadata[g.name + ".parameters"] = parameterList(g.members)
            metadata[g.name + ".step"] = String(g.step)
        }
        try SafetensorsWriter.write(pieces, metadata: metadata, to: directory + "/" + fileName(rank: rank, worldSize: worldSize))
    }

    /// The files of one save, read for any range of a group's flat vector.
    public struct Saved {
        public let directory: String
        let files: [SafetensorsFile]
        /// `<group>.<kind>` → pieces (offset, values, file).
        var pieces: [String: [(offset: Int, tensor: Tensor, path: String)]] = [:]

        /// Opens every rank's file (all present, one world size, this format, the same parameter lists
        /// and step counts in each).
        public init(directory: String) throws {
            self.directory = directory
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
            files = try (0..<world).map { r in
                let path = directory + "/" + (byRank[r] ?? "")
                let file = try SafetensorsFile(path: path)
                guard file.metadata["format"] == format else {
                    throw DistributedError.checkpoint(path: path, reason: "format '\(file.metadata["format"] ?? "none")', expected '\(format)'")
                }
                return file
            }
            for file in files {
                for group in ["decay", "no_decay"] {
                    for key in [group + ".parameters", group + ".step"] where file.metadata[key] != files[0].metadata[key] {
                        throw DistributedError.checkpoint(path: file.path, reason: "metadata '\(key)' differs from rank 0's")
                    }
                }
                for name in file.names {
                    guard let at = name.firstIndex(of: "@"), let offset = Int(name[name.index(after: at)...]) else { continue }
                    pieces[String(name[..<at]), default: []].append((offset, try file.tensor(name), file.path))
                }
            }
        }

        /// A group's parameter list (name, count), or nil when the save has no such group.
        public func members(group: String) throws -> [(name: String, count: Int)]? {
            guard let listed = files[0].metadata[group + ".parameters"] else { return nil }
            return try listed.split(separator: "\n").map { line in
                guard let eq = line.lastIndex(of: "="), let count = Int(line[line.index(after: eq)...]) else {
                    throw DistributedError.checkpoint(path: files[0].path, reason: "metadata '\(group).parameters' has a malformed line '\(line)'")
                }
                return (String(line[..<eq]), count)
            }
        }

        /// A group's AdamW step count.
        public func step(group: String) throws -> Double {
            guard let text = files[0].metadata[group + ".step"], let value = Double(text) else {
                throw DistributedError.checkpoint(path: files[0].path, reason: "metadata '\(group).step' is missing or not a number")
            }
            return value
        }

        /// Throws unless the save's list of `group` is `expected` (the trainable parameters of this run).
        public func check(group: String, expected: [(name: String, count: Int)]) throws {
            let saved = try members(group: group) ?? []
            guard saved.map(\.name) != expected.map(\.name) || saved.map(\.count) != expected.map(\.count) else { return }
            let first = zip(saved, expected).first { $0.name != $1.name || $0.count != $1.count }
                .map { "saved '\($0.name)=\($0.count)' vs now '\($1.name)=\($1.count)'" }
                ?? "\(saved.count) parameters saved vs \(expected.count) now"
            throw DistributedError.checkpoint(path: directory, reason: "optimizer state of group '\(group)' was saved for other trainable parameters (\(first))")
        }

        /// Copies elements `range` of `group`'s flat `kind` vector into `target` (`[range.count]`) and
        /// throws unless the saved pieces cover every element exactly once.
        public func copy(group: String, kind: String, range: Range<Int>, into target: Tensor) throws {
            var covered = 0
            Autograd.noGrad {
                for (offset, tensor, _) in pieces[group + "." + kind] ?? [] {
                    let lo = max(offset, range.lowerBound), hi = min(offset + tensor.count, range.upperBound)
                    guard lo < hi else { continue }
                    target.narrow(0, start: lo - range.lowerBound, length: hi - lo).copy_(tensor.narrow(0, start: lo - offset, length: hi - lo))
                    covered += hi - lo
                }
            }
            guard covered == range.count else {
                throw DistributedError.checkpoint(path: directory, reason: "'\(group).\(kind)' covers \(covered) of the \(range.count) elements \(range) needed (files missing or overlapping)")
            }
        }
    }
}
