import NN
import Torch

/// SigLIP's image half: the vision tower with its attention-pooling head, whose output is
/// `SiglipModel.get_image_features`. Loads a full `SiglipModel` folder (model_type "siglip":
/// `vision_model.*` is used; the text half `text_model.*` and `logit_scale`/`logit_bias` are
/// skipped on purpose, since image features do not need them) or a `SiglipVisionModel` folder
/// (model_type "siglip_vision_model"). Every vision weight is loaded strictly.
public final class SiglipImageEncoder: Module, ImageEmbeddingModel {
    public static var modelTypes: [String] { [SiglipFolderConfig.fullModelType, SiglipFolderConfig.visionModelType] }

    public let config: VisionConfig
    public let tower: VisionTower

    /// Builds the encoder from `loader`; `full` drops the text half of a `SiglipModel` checkpoint.
    public init(config: VisionConfig, loader: WeightLoader, full: Bool) throws {
        guard config.family == .siglip else {
            throw ConfigError(file: loader.source, field: "vision_config.model_type", reason: "is not siglip_vision_model")
        }
        guard config.visionUseHead else {
            throw ConfigError(file: loader.source, field: "vision_use_head",
                              reason: "is false: without the attention-pooling head there are no image features (get_image_features)")
        }
        self.config = config
        let scope = ModuleScope(loader: loader)
        tower = try VisionTower(config: config, scope.child(""))
        if full {
            loader.discardAll(prefix: "text_model.")
            scope.discard("logit_scale")
            scope.discard("logit_bias")
        }
        super.init(scope)
        try loader.finish()
    }

    public convenience init(configFile: String, loader: WeightLoader) throws {
        let folder = try ConfigFile.decode(SiglipFolderConfig.self, path: configFile)
        try self.init(config: folder.visionConfig, loader: loader, full: folder.full)
    }

    /// `get_image_features`: `[N, hidden]` for images at ``requiredImageSize``.
    public func imageEmbeddings(_ pixels: Tensor) -> Tensor { tower.pooledOutput(pixels) }

    /// SigLIP's position embeddings are a fixed grid (transformers interpolates them only when asked).
    public var requiredImageSize: Int? { config.imageSize }
}

/// The config.json of a `SiglipModel` (`vision_config` inside) or a `SiglipVisionModel` folder.
struct SiglipFolderConfig: Decodable {
    static let fullModelType = "siglip"
    static let visionModelType = VisionConfig.Family.siglip.rawValue

    var visionConfig: VisionConfig
    /// A `SiglipModel` checkpoint (text half included).
    var full: Bool

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", visionConfig = "vision_config"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decodeIfPresent(String.self, forKey: .modelType)
        switch type {
        case Self.fullModelType?:
            full = true
            // transformers reads `vision_config` as a SiglipVisionConfig whatever it names.
            visionConfig = try VisionConfig(from: try c.superDecoder(forKey: .visionConfig), defaultFamily: .siglip)
        case Self.visionModelType?:
            full = false
            visionConfig = try VisionConfig(from: decoder, defaultFamily: .siglip)
        default:
            throw ConfigError.unsupported(type ?? "(none)", field: "model_type", supported: [Self.fullModelType, Self.visionModelType])
        }
    }
}
