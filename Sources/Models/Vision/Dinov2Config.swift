/// A DINOv2 `config.json` (model_type "dinov2", transformers' `Dinov2Config`). Missing fields take
/// transformers' defaults; `facebook/dinov2-large` is width 1024, 24 layers, 16 heads, trained at
/// 518 px with 14-px patches (a 37 × 37 grid of position embeddings).
public struct Dinov2Config: Decodable, Sendable, Equatable {
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// MLP width over hidden width (4; dinov2-giant's SwiGLU MLP derives its width from it).
    public var mlpRatio: Double
    public var hiddenAct: Activation
    public var layerNormEps: Double
    /// The training resolution: the position-embedding grid is `imageSize / patchSize` square.
    public var imageSize: Int
    public var patchSize: Int
    public var numChannels: Int
    public var qkvBias: Bool
    /// dinov2-giant's SwiGLU MLP (`weights_in`, `weights_out`) instead of `fc1`/`fc2`.
    public var useSwigluFfn: Bool
    /// Whether the checkpoint has `embeddings.mask_token` (kept, unused: it is for masked pretraining).
    public var useMaskToken: Bool

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case mlpRatio = "mlp_ratio"
        case hiddenAct = "hidden_act"
        case layerNormEps = "layer_norm_eps"
        case imageSize = "image_size"
        case patchSize = "patch_size"
        case numChannels = "num_channels"
        case qkvBias = "qkv_bias"
        case useSwigluFfn = "use_swiglu_ffn"
        case useMaskToken = "use_mask_token"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != Dinov2Model.modelType {
            throw ConfigError.unsupported(type, field: "model_type", supported: [Dinov2Model.modelType])
        }
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 768
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? 12
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? 12
        mlpRatio = try c.decodeIfPresent(Double.self, forKey: .mlpRatio) ?? 4
        hiddenAct = try c.decodeChoice(Activation.self, forKey: .hiddenAct, default: .gelu)
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? 1e-6
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? 224
        patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? 14
        numChannels = try c.decodeIfPresent(Int.self, forKey: .numChannels) ?? 3
        qkvBias = try c.decodeIfPresent(Bool.self, forKey: .qkvBias) ?? true
        useSwigluFfn = try c.decodeIfPresent(Bool.self, forKey: .useSwigluFfn) ?? false
        useMaskToken = try c.decodeIfPresent(Bool.self, forKey: .useMaskToken) ?? true
        for (v, f) in [(hiddenSize, "hidden_size"), (numHiddenLayers, "num_hidden_layers"), (numAttentionHeads, "num_attention_heads"),
                       (imageSize, "image_size"), (patchSize, "patch_size"), (numChannels, "num_channels")] {
            try Check.positive(v, f)
        }
        try Check.divisible(hiddenSize, by: numAttentionHeads, "hidden_size", "num_attention_heads")
        if !(mlpRatio.isFinite && mlpRatio > 0) || mlpWidth < 1 {
            throw ConfigError(file: "", field: "mlp_ratio", reason: "must be a positive number giving an MLP of at least one unit")
        }
        if imageSize < patchSize {
            throw ConfigError(file: "", field: "image_size", reason: "\(imageSize) is smaller than patch_size \(patchSize)")
        }
    }

    /// Side of the position-embedding grid the checkpoint was trained at (37 for 518 / 14).
    public var gridSize: Int { imageSize / patchSize }

    /// The MLP's hidden width as transformers computes it: `int(hidden_size * mlp_ratio)`, and for
    /// SwiGLU then `(int(w * 2 / 3) + 7) // 8 * 8`.
    public var mlpWidth: Int {
        let width = Int((Double(hiddenSize) * mlpRatio).rounded(.towardZero))
        guard useSwigluFfn else { return width }
        return (Int((Double(width) * 2 / 3).rounded(.towardZero)) + 7) / 8 * 8
    }
}
