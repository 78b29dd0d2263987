#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AtomicFiles
import NN
import Torch

extension VisionLanguageModel {
    /// Parameter counts: total and per top-level part (under its checkpoint key), tied weights counted once.
    public var parameterCounts: [(component: String, count: Int)] {
        [("total", parameterCount())] + entries.compactMap { key, entry in
            guard case .module(let part) = entry else { return nil }
            return (key, part.parameterCount())
        }
    }

    /// Writes the weights under the model's keys (for LLaVA, the published layout that transformers
    /// of any version loads) as `model.safetensors`, sharded past `maxShardBytes`, and `config.json`
    /// copied from `configSource` (the folder the model came from), each file atomically.
    public func save(directory: String, configSource: String, maxShardBytes: Int = 5_000_000_000) throws {
        try SafetensorsCheckpoint.save(stateDict(), directory: directory, maxShardBytes: maxShardBytes)
        let from = SafetensorsCheckpoint.join(configSource, "config.json")
        let to = SafetensorsCheckpoint.join(directory, "config.json")
        guard from != to else { return }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: from))
        } catch {
            throw TorchError.io(path: from, reason: "cannot read: \(error)")
        }
        try AtomicFile.write(to: to) { try $0.write(Array(data)) }
    }
}
