import NN
import Torch

/// The model families svco runs, keyed by config.json's `model_type`.
public enum ModelRegistry {
    /// One entry per family. A new family is its folder under `Sources/Models` and a line here.
    public static var families: [any VisionLanguageModel.Type] {
        [LlavaModel.self]
    }

    /// The family of the model folder `directory`, from its config.json's `model_type`.
    public static func family(directory: String) throws -> any VisionLanguageModel.Type {
        let path = SafetensorsCheckpoint.join(directory, "config.json")
        let modelType = try ConfigFile.decode(ModelTypeField.self, path: path).modelType
        let supported = families.map { $0.modelType }
        guard let modelType else {
            throw ConfigError(file: path, field: "model_type", reason: "is required (supported: \(supported.joined(separator: ", ")))")
        }
        guard let family = families.first(where: { $0.modelType == modelType }) else {
            throw ConfigError.unsupported(modelType, field: "model_type", supported: supported, file: path)
        }
        return family
    }

    /// Loads the model folder `directory` with its family's loader (config.json + safetensors weights, strictly).
    /// - Parameter other: a model whose frozen vision tower the new one uses instead of its own copy
    ///   (see ``VisionLanguageModel/load(directory:dtype:device:sharingVisionTowerOf:)``).
    public static func load(directory: String, dtype: DType? = nil, device: Device = .cpu,
                            sharingVisionTowerOf other: (any VisionLanguageModel)? = nil) throws -> any VisionLanguageModel {
        try family(directory: directory).load(directory: directory, dtype: dtype, device: device, sharingVisionTowerOf: other)
    }

    private struct ModelTypeField: Decodable {
        var modelType: String?
        enum CodingKeys: String, CodingKey { case modelType = "model_type" }
    }
}
