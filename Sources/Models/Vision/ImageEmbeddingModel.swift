import NN
import Torch

/// A model that turns each image into one vector, loaded from a HF folder: what `svco data
/// similarity` compares (SigLIP's image features, DINOv2's pooled CLS token).
public protocol ImageEmbeddingModel: Module {
    /// The config.json `model_type` values this model loads.
    static var modelTypes: [String] { get }

    /// Loads `config.json` and the safetensors weights of a HF folder, strictly.
    static func load(directory: String, dtype: DType?, device: Device) throws -> Self

    /// One vector per image: `[N, C, H, W]` → `[N, D]`.
    func imageEmbeddings(_ pixels: Tensor) -> Tensor

    /// The square input side the model needs (SigLIP's fixed grid), or nil when any size works.
    var requiredImageSize: Int? { get }
}

/// Loads image-embedding models by `model_type`.
public enum ImageEmbeddingModels {
    /// Loads `directory` as `type`, after checking its config.json names one of `type.modelTypes`
    /// (a folder of another kind is an error naming the file and the supported types).
    public static func load<M: ImageEmbeddingModel>(_ type: M.Type, directory: String, dtype: DType? = nil,
                                                    device: Device = .cpu) throws -> M {
        let path = SafetensorsCheckpoint.join(directory, "config.json")
        let found = try ConfigFile.decode(ModelTypeField.self, path: path).modelType
        guard let found, M.modelTypes.contains(found) else {
            throw found.map { ConfigError.unsupported($0, field: "model_type", supported: M.modelTypes, file: path) }
                ?? ConfigError(file: path, field: "model_type", reason: "is required (supported: \(M.modelTypes.joined(separator: ", ")))")
        }
        return try M.load(directory: directory, dtype: dtype, device: device)
    }
}

private struct ModelTypeField: Decodable {
    var modelType: String?
    enum CodingKeys: String, CodingKey { case modelType = "model_type" }
}
