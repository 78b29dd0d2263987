import NN
import Torch

/// A model that turns each image into one vector, loaded from a HF folder: what `svco data
/// similarity` compares (SigLIP's image features, DINOv2's pooled CLS token).
public protocol ImageEmbeddingModel: Module {
    /// The config.json `model_type` values this model loads.
    static var modelTypes: [String] { get }

    /// Builds the model its `config.json` at `configFile` describes, with the weights `loader` hands
    /// out (a checkpoint's, strictly, or seeded random ones).
    init(configFile: String, loader: WeightLoader) throws

    /// One vector per image: `[N, C, H, W]` → `[N, D]`.
    func imageEmbeddings(_ pixels: Tensor) -> Tensor

    /// The square input side the model needs (SigLIP's fixed grid), or nil when any size works.
    var requiredImageSize: Int? { get }
}

extension ImageEmbeddingModel {
    /// Loads `config.json` and the safetensors weights of a HF folder, strictly.
    public static func load(directory: String, dtype: DType?, device: Device) throws -> Self {
        let tensors = try SafetensorsCheckpoint.load(directory: directory)
        return try Self(configFile: SafetensorsCheckpoint.join(directory, "config.json"),
                        loader: WeightLoader(tensors: tensors, source: directory, dtype: dtype, device: device))
    }
}

/// Loads image-embedding models by `model_type`.
public enum ImageEmbeddingModels {
    /// Loads `directory` as `type`, after checking its config.json names one of `type.modelTypes`
    /// (a folder of another kind is an error naming the file and the supported types).
    public static func load<M: ImageEmbeddingModel>(_ type: M.Type, directory: String, dtype: DType? = nil,
                                                    device: Device = .cpu) throws -> M {
        try check(M.self, configFile: SafetensorsCheckpoint.join(directory, "config.json"))
        return try M.load(directory: directory, dtype: dtype, device: device)
    }

    /// The image-embedding model types, for callers that pick one by a config's `model_type`.
    public static let types: [any ImageEmbeddingModel.Type] = [SiglipImageEncoder.self, Dinov2Model.self]

    /// The type whose `modelTypes` hold the `model_type` of the config at `configFile`, or nil.
    public static func type(configFile: String) throws -> (any ImageEmbeddingModel.Type)? {
        let found = try ConfigFile.decode(ModelTypeField.self, path: configFile).modelType
        return types.first { t in found.map { t.modelTypes.contains($0) } ?? false }
    }

    static func check<M: ImageEmbeddingModel>(_ type: M.Type, configFile path: String) throws {
        let found = try ConfigFile.decode(ModelTypeField.self, path: path).modelType
        guard let found, M.modelTypes.contains(found) else {
            throw found.map { ConfigError.unsupported($0, field: "model_type", supported: M.modelTypes, file: path) }
                ?? ConfigError(file: path, field: "model_type", reason: "is required (supported: \(M.modelTypes.joined(separator: ", ")))")
        }
    }
}

private struct ModelTypeField: Decodable {
    var modelType: String?
    enum CodingKeys: String, CodingKey { case modelType = "model_type" }
}
