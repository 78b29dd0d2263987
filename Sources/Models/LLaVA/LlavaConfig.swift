/// Which vision positions LLaVA passes to the projector (`vision_feature_select_strategy`).
public enum VisionFeatureSelection: String, ConfigChoice {
    /// Every position but the first (CLIP's class token).
    case `default`
    /// Every position.
    case full
}

/// A LLaVA `config.json` (model_type "llava"): a vision tower, a projector and a decoder.
/// Missing fields take transformers' LlavaConfig defaults.
public struct LlavaConfig: Decodable, VisionLanguageConfig, Equatable {
    public var visionConfig: VisionConfig
    public var textConfig: DecoderConfig
    public var imageTokenIndex: Int
    public var projectorHiddenAct: Activation
    public var visionFeatureSelectStrategy: VisionFeatureSelection
    public var visionFeatureLayer: IntOrList
    public var multimodalProjectorBias: Bool
    public var ignoreIndex: Int

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case visionConfig = "vision_config"
        case textConfig = "text_config"
        case imageTokenIndex = "image_token_index"
        case imageTokenId = "image_token_id"
        case projectorHiddenAct = "projector_hidden_act"
        case visionFeatureSelectStrategy = "vision_feature_select_strategy"
        case visionFeatureLayer = "vision_feature_layer"
        case multimodalProjectorBias = "multimodal_projector_bias"
        case ignoreIndex = "ignore_index"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? LlavaModel.modelType
        guard modelType == LlavaModel.modelType else {
            throw ConfigError.unsupported(modelType, field: "model_type", supported: [LlavaModel.modelType])
        }
        visionConfig = try c.decodeIfPresent(VisionConfig.self, forKey: .visionConfig) ?? .llavaDefault
        textConfig = try c.decodeIfPresent(DecoderConfig.self, forKey: .textConfig)
            ?? ConfigFile.decode(DecoderConfig.self, data: Data("{}".utf8), path: "text_config")
        imageTokenIndex = try c.decodeIfPresent(Int.self, forKey: .imageTokenIndex)
            ?? c.decodeIfPresent(Int.self, forKey: .imageTokenId) ?? 32000
        projectorHiddenAct = try c.decodeChoice(Activation.self, forKey: .projectorHiddenAct, default: .gelu)
        visionFeatureSelectStrategy = try c.decodeChoice(VisionFeatureSelection.self, forKey: .visionFeatureSelectStrategy,
                                                         default: .default)
        visionFeatureLayer = try c.decodeIfPresent(IntOrList.self, forKey: .visionFeatureLayer) ?? .int(-2)
        multimodalProjectorBias = try c.decodeIfPresent(Bool.self, forKey: .multimodalProjectorBias) ?? true
        ignoreIndex = try c.decodeIfPresent(Int.self, forKey: .ignoreIndex) ?? -100
        let layers = visionConfig.numHiddenLayers
        for l in visionFeatureLayer.values where l < -(layers + 1) || l > layers {
            throw ConfigError(file: "", field: "vision_feature_layer",
                              reason: "\(l) is outside the vision tower's \(layers + 1) hidden states")
        }
        if visionFeatureLayer.values.isEmpty {
            throw ConfigError(file: "", field: "vision_feature_layer", reason: "must name at least one layer")
        }
        // The image token may lie past the embedding table (its rows are replaced by image features
        // before any lookup), but it must be a token id.
        guard imageTokenIndex >= 0 else {
            throw ConfigError(file: "", field: "image_token_index", reason: "must be a token id, got \(imageTokenIndex)")
        }
    }

    /// Vision-feature positions one image expands into.
    public var imageFeatureCount: Int {
        let tokens = visionConfig.patchCount + (visionConfig.family == .clip ? 1 : 0)
        return visionFeatureSelectStrategy == .default ? tokens - 1 : tokens
    }

    public var imageSize: Int { visionConfig.imageSize }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
