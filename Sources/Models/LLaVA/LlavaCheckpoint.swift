#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AtomicFiles
import NN
import Torch

extension LlavaModel {
    /// Human-readable family of this model.
    public var familyName: String {
        switch (config.visionConfig.family, config.textConfig.family) {
        case (.clip, .llama): "llava-1.5 (CLIP + Llama)"
        case (.siglip, .qwen2): "llava-interleave (SigLIP + Qwen2)"
        case (let v, let t): "llava (\(v.rawValue) + \(t.rawValue))"
        }
    }

    /// Parameter counts: total and per top-level component, tied weights counted once.
    public var parameterCounts: [(component: String, count: Int)] {
        [("total", parameterCount()),
         (Self.visionPrefix, parameterCount(prefix: Self.visionPrefix + ".")),
         (Self.projectorPrefix, parameterCount(prefix: Self.projectorPrefix + ".")),
         (Self.languagePrefix, parameterCount(prefix: Self.languagePrefix + "."))]
    }

    /// Writes the weights in the published layout (`model.safetensors`, sharded past `maxShardBytes`)
    /// and `config.json` copied from `configSource` (the folder the model came from), each file
    /// atomically, so that transformers of any version loads the folder.
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
