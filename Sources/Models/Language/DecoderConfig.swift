import DecodingDiagnostics
import NN

/// A decoder-only language model's config (`text_config` of a LLaVA config.json) for the two
/// families LLaVA pairs with. Missing fields take the defaults of transformers' LlamaConfig /
/// Qwen2Config.
public struct DecoderConfig: Codable, Sendable, Equatable {
    public enum Family: String, Codable, ConfigChoice {
        case llama
        case qwen2
    }

    public var family: Family
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    /// The MLP's gate activation (`act_fn` of transformers' LlamaMLP / Qwen2MLP).
    public var hiddenAct: Activation
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling
    public var tieWordEmbeddings: Bool
    /// Bias on q/k/v (and o for Llama's `attention_bias`). Qwen2 always has q/k/v biases, no o bias.
    public var attentionBias: Bool
    public var mlpBias: Bool
    public var padTokenId: Int?
    public var bosTokenId: Int?
    public var eosTokenId: Int?

    enum CodingKeys: String, CodingKey {
        case family = "model_type"
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case padTokenId = "pad_token_id"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
    }

    /// The `rope_scaling` kinds svco computes.
    enum RopeType: String, ConfigChoice {
        case `default`
        case linear
    }

    enum RopeScalingKeys: String, CodingKey {
        case type
        case ropeType = "rope_type"
        case factor
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let family = try c.decodeChoice(Family.self, forKey: .family, default: .llama)
        let llama = family == .llama
        self.family = family
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? (llama ? 32000 : 151_936)
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? 4096
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? (llama ? 11008 : 22016)
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? 32
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? 32
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        hiddenAct = try c.decodeChoice(Activation.self, forKey: .hiddenAct, default: .silu)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? (llama ? 2048 : 32768)
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        attentionBias = llama ? (try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false) : true
        mlpBias = llama ? (try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false) : false
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        eosTokenId = try? c.decodeIfPresent(Int.self, forKey: .eosTokenId)
        ropeScaling = try Self.decodeRopeScaling(c)
        try validate()
    }

    /// `rope_scaling` (absent or null: none): its kind under `rope_type` (or the older `type`),
    /// and a positive `factor` for linear scaling.
    static func decodeRopeScaling(_ c: KeyedDecodingContainer<CodingKeys>) throws -> RopeScaling {
        guard c.contains(.ropeScaling), try !c.decodeNil(forKey: .ropeScaling) else { return .none }
        let s = try c.nestedContainer(keyedBy: RopeScalingKeys.self, forKey: .ropeScaling)
        let kindKey: RopeScalingKeys = s.contains(.ropeType) ? .ropeType : .type
        switch try s.decodeChoice(RopeType.self, forKey: kindKey, default: .default) {
        case .default:
            return .none
        case .linear:
            guard let factor = try s.decodeIfPresent(Double.self, forKey: .factor), factor > 0 else {
                throw ConfigError(file: "", field: DecodingFailure.field(s.codingPath + [RopeScalingKeys.factor]),
                                  reason: "must be a positive number for linear scaling")
            }
            return .linear(factor: factor)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(family, forKey: .family)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        if family == .llama {
            try c.encode(attentionBias, forKey: .attentionBias)
            try c.encode(mlpBias, forKey: .mlpBias)
        }
    }

    func validate() throws {
        for (v, f) in [(vocabSize, "vocab_size"), (hiddenSize, "hidden_size"), (intermediateSize, "intermediate_size"),
                       (numHiddenLayers, "num_hidden_layers"), (numAttentionHeads, "num_attention_heads"),
                       (numKeyValueHeads, "num_key_value_heads"), (headDim, "head_dim")] {
            try Check.positive(v, "text_config.\(f)")
        }
        try Check.divisible(numAttentionHeads, by: numKeyValueHeads, "text_config.num_attention_heads", "num_key_value_heads")
        if headDim % 2 != 0 {
            throw ConfigError(file: "", field: "text_config.head_dim", reason: "must be even for rotary embeddings, got \(headDim)")
        }
    }
}
