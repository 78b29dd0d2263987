/// A vision tower's config (`vision_config` of a LLaVA config.json), for the two families LLaVA uses.
/// Missing fields take the defaults of transformers' CLIPVisionConfig / SiglipVisionConfig.
public struct VisionConfig: Codable, Sendable, Equatable {
    public enum Family: String, Codable, ConfigChoice {
        case clip = "clip_vision_model"
        case siglip = "siglip_vision_model"
    }

    public var family: Family
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numChannels: Int
    public var imageSize: Int
    public var patchSize: Int
    public var hiddenAct: Activation
    public var layerNormEps: Double
    /// SigLIP only: whether the checkpoint carries the attention-pooling head (LLaVA never uses it).
    public var visionUseHead: Bool

    enum CodingKeys: String, CodingKey {
        case family = "model_type"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numChannels = "num_channels"
        case imageSize = "image_size"
        case patchSize = "patch_size"
        case hiddenAct = "hidden_act"
        case layerNormEps = "layer_norm_eps"
        case visionUseHead = "vision_use_head"
    }

    /// LLaVA's default vision tower: CLIP ViT-L/14 at 336 px.
    public static let llavaDefault = VisionConfig(
        family: .clip, hiddenSize: 1024, intermediateSize: 4096, numHiddenLayers: 24, numAttentionHeads: 16,
        numChannels: 3, imageSize: 336, patchSize: 14, hiddenAct: .quickGelu, layerNormEps: 1e-5, visionUseHead: false)

    public init(family: Family, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                numChannels: Int, imageSize: Int, patchSize: Int, hiddenAct: Activation, layerNormEps: Double,
                visionUseHead: Bool) {
        self.family = family
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numChannels = numChannels
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.hiddenAct = hiddenAct
        self.layerNormEps = layerNormEps
        self.visionUseHead = visionUseHead
    }

    public init(from decoder: Decoder) throws {
        try self.init(from: decoder, defaultFamily: .clip)
    }

    /// Decodes with `defaultFamily` when `model_type` is absent: LLaVA's `vision_config` defaults to
    /// CLIP, a `SiglipModel` folder's `vision_config` is SigLIP's whatever it says.
    init(from decoder: Decoder, defaultFamily: Family) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let family = try c.decodeChoice(Family.self, forKey: .family, default: defaultFamily)
        let clip = family == .clip
        self.family = family
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 768
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? 3072
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? 12
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? 12
        numChannels = try c.decodeIfPresent(Int.self, forKey: .numChannels) ?? 3
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? 224
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? (clip ? 32 : 16)
        hiddenAct = try c.decodeChoice(Activation.self, forKey: .hiddenAct, default: clip ? .quickGelu : .geluTanh)
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? (clip ? 1e-5 : 1e-6)
        visionUseHead = clip ? false : (try c.decodeIfPresent(Bool.self, forKey: .visionUseHead) ?? true)
        try validate()
    }

    func validate() throws {
        for (v, f) in [(hiddenSize, "hidden_size"), (intermediateSize, "intermediate_size"), (numHiddenLayers, "num_hidden_layers"),
                       (numAttentionHeads, "num_attention_heads"), (numChannels, "num_channels"), (imageSize, "image_size"),
                       (patchSize, "patch_size")] {
            try Check.positive(v, "vision_config.\(f)")
        }
        try Check.divisible(hiddenSize, by: numAttentionHeads, "vision_config.hidden_size", "num_attention_heads")
        // Not necessarily divisible: SigLIP-so400m has 384 px with 14 px patches; the convolution
        // drops the remainder (27 × 27 patches).
        if imageSize < patchSize {
            throw ConfigError(file: "", field: "vision_config.image_size", reason: "\(imageSize) is smaller than patch_size \(patchSize)")
        }
    }

    /// Patches per image (the CLS token, if any, not counted).
    public var patchCount: Int { (imageSize / patchSize) * (imageSize / patchSize) }
}
