import JSONLiteral
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AtomicFiles

/// The weights of a Hugging Face model folder: `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`{"metadata": {...}, "weight_map": {tensor: shard file}}`).
public enum SafetensorsCheckpoint {
    public static let singleFile = "model.safetensors"
    public static let indexFile = "model.safetensors.index.json"

    /// Loads every tensor of the folder (zero copy). Throws naming the file at fault when the index
    /// is malformed, a shard is missing, a listed tensor is absent from its shard, or a tensor
    /// appears in two shards.
    public static func load(directory: String) throws -> [String: Tensor] {
        let indexPath = join(directory, indexFile)
        if FileManager.default.fileExists(atPath: indexPath) {
            return try loadSharded(indexPath: indexPath, directory: directory)
        }
        let single = join(directory, singleFile)
        guard FileManager.default.fileExists(atPath: single) else {
            throw TorchError.malformedCheckpoint(path: directory, reason: "neither \(singleFile) nor \(indexFile) is there")
        }
        return try SafetensorsFile(path: single).tensors()
    }

    private struct Index: Decodable {
        var weightMap: [String: String]
        enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }

    static func loadSharded(indexPath: String, directory: String) throws -> [String: Tensor] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: indexPath))
        } catch {
            throw TorchError.io(path: indexPath, reason: "cannot read: \(error)")
        }
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: data)
        } catch {
            throw TorchError.malformedCheckpoint(path: indexPath, reason: "field 'weight_map' missing or not a map of tensor to file: \(error)")
        }
        var byShard: [String: Set<String>] = [:]
        for (tensor, shard) in index.weightMap {
            guard !shard.contains("/"), !shard.hasPrefix(".") else {
                throw TorchError.malformedCheckpoint(path: indexPath, reason: "weight_map['\(tensor)'] names '\(shard)' outside the folder")
            }
            byShard[shard, default: []].insert(tensor)
        }
        var out: [String: Tensor] = [:]
        for shard in byShard.keys.sorted() {
            let path = join(directory, shard)
            guard FileManager.default.fileExists(atPath: path) else {
                throw TorchError.malformedCheckpoint(path: indexPath, reason: "shard '\(shard)' listed in weight_map does not exist")
            }
            let file = try SafetensorsFile(path: path)
            let listed = byShard[shard] ?? []
            for entry in file.header.entries {
                guard listed.contains(entry.name) else {
                    throw TorchError.malformedCheckpoint(
                        path: path, reason: "tensor '\(entry.name)' is in the shard but weight_map assigns it elsewhere")
                }
                out[entry.name] = file.tensor(for: entry)
            }
            for name in listed where out[name] == nil {
                throw TorchError.malformedCheckpoint(path: path, reason: "tensor '\(name)' listed in weight_map is missing from the shard")
            }
        }
        return out
    }

    /// Saves `tensors` into `directory` as HF does: one `model.safetensors` when the total fits in
    /// `maxShardBytes`, else `model-0000k-of-0000n.safetensors` shards plus the index. Each file is
    /// written atomically; the index last, so a reader never sees an index naming missing shards.
    public static func save(_ tensors: [String: Tensor], directory: String, maxShardBytes: Int = 5_000_000_000,
                            metadata: [String: String] = ["format": "pt"]) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TorchError.io(path: directory, reason: "cannot create folder: \(error)")
        }
        let names = tensors.keys.sorted()
        var shards: [[String]] = [[]]
        var shardBytes = 0
        var total = 0
        for name in names {
            let size = tensors[name]?.byteCount ?? 0
            total += size
            if shardBytes + size > maxShardBytes, !(shards.last?.isEmpty ?? true) {
                shards.append([])
                shardBytes = 0
            }
            shards[shards.count - 1].append(name)
            shardBytes += size
        }
        if shards.count == 1 {
            try SafetensorsWriter.write(tensors, metadata: metadata, to: join(directory, singleFile))
            return
        }
        var weightMap: [String: String] = [:]
        for (k, shardNames) in shards.enumerated() {
            let file = "model-\(pad5(k + 1))-of-\(pad5(shards.count)).safetensors"
            var part: [String: Tensor] = [:]
            for name in shardNames {
                part[name] = tensors[name]
                weightMap[name] = file
            }
            try SafetensorsWriter.write(part, metadata: metadata, to: join(directory, file))
        }
        let entries = weightMap.keys.sorted().map { "    \(jsonStringLiteral($0)): \(jsonStringLiteral(weightMap[$0] ?? ""))" }
        let json = "{\n  \"metadata\": {\n    \"total_size\": \(total)\n  },\n  \"weight_map\": {\n"
            + entries.joined(separator: ",\n") + "\n  }\n}\n"
        try AtomicFile.write(to: join(directory, indexFile)) { try $0.write(Array(json.utf8)) }
    }

    private static func pad5(_ n: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 5 - s.count)) + s
    }

    /// `directory/name`.
    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
