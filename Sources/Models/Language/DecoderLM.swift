import NN
import Torch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Llama / Qwen2 decoder-only language model, written once: token embeddings, pre-norm blocks
/// of grouped-query attention with RoPE and a SwiGLU MLP, a final RMSNorm and the output layer.
/// Qwen2 differs only by biases on q/k/v (from the config). Keys follow transformers'
/// LlamaForCausalLM / Qwen2ForCausalLM: `model.embed_tokens.weight`,
/// `model.layers.0.self_attn.q_proj.weight`, …, `lm_head.weight`.
public final class DecoderLM: Module, LayeredModule {
    public let config: DecoderConfig
    public let embedTokens: Embedding
    let layers: [DecoderLayer]
    let norm: RMSNorm
    /// nil when tied to the embeddings.
    let lmHead: Linear?
    let rope: RotaryEmbedding
    /// Recompute each decoder layer in the backward pass instead of keeping its activations
    /// (transformers' `gradient_checkpointing_enable()`). Only applies while gradients are recorded
    /// and without a KV cache (generation never checkpoints).
    public var gradientCheckpointing = false
    /// While gradients are recorded and a layer is not checkpointed whole, recompute its two RMSNorms
    /// and the SwiGLU product in the backward pass from tensors the pass keeps anyway, instead of
    /// holding their outputs: 2 × hidden + intermediate fewer values kept per token and layer (about
    /// 15% of what a Llama layer keeps), for repeated elementwise work only (no matmul). Exact: the same
    /// forward, gradients that differ only in summation order. Off only to measure what it saves.
    public var recomputesElementwiseActivations = true
    /// Runs around each decoder layer (ZeRO-3 gathers and frees the layer's parameters there).
    public var layerHooks: (any LayerHooks)?
    public var blocks: [Module] { layers }

    public init(config: DecoderConfig, _ scope: ModuleScope) throws {
        self.config = config
        // transformers builds nn.Embedding(padding_idx=pad_token_id): the pad row gets no gradient.
        embedTokens = try Embedding(scope.child("model.embed_tokens"), count: config.vocabSize,
                                    dimension: config.hiddenSize, paddingIndex: config.padTokenId)
        layers = try (0..<config.numHiddenLayers).map { try DecoderLayer(config: config, scope.child("model.layers.\($0)")) }
        norm = try RMSNorm(scope.child("model.norm"), dimension: config.hiddenSize, eps: config.rmsNormEps)
        if config.tieWordEmbeddings {
            // transformers leaves a tied head out of saved files; one that is there anyway is a copy.
            scope.discard("lm_head.weight")
            lmHead = nil
        } else {
            lmHead = try Linear(scope.child("lm_head"), inFeatures: config.hiddenSize, outFeatures: config.vocabSize, bias: false)
        }
        rope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling)
        super.init(scope)
    }

    /// Final hidden states `[B, T, hidden]` for input embeddings `[B, T, hidden]`.
    /// - Parameters:
    ///   - positions: int64 `[B, T]` position ids.
    ///   - mask: additive attention mask `[B, 1, T, Tk]` (0 = attend, a very negative number = not);
    ///     nil means plain causal attention without padding.
    ///   - cache: keys/values of earlier positions, updated in place.
    public func hiddenStates(inputsEmbeds: Tensor, positions: Tensor, mask: Tensor?, cache: KVCache? = nil) -> Tensor {
        let (cos, sin) = rope.cosSin(positions: positions, dtype: inputsEmbeds.dtype)
        var x = inputsEmbeds
        let checkpointed = gradientCheckpointing && cache == nil && Autograd.isEnabled
        let recompute = recomputesElementwiseActivations && !checkpointed && cache == nil && Autograd.isEnabled
        let hooks = layerHooks
        for (i, layer) in layers.enumerated() {
            let next = i + 1 < layers.count ? layers[i + 1] : nil
            if checkpointed {
                // The hidden states are the segment's input; cos, sin and the mask need no gradient.
                x = Checkpoint.run([x], afterBackward: hooks.map { hooks in { hooks.didBackward(layer) } }) { [cos, sin, mask] inputs in
                    hooks?.willRun(layer, next: next)
                    defer { hooks?.didRun(layer) }
                    return [layer(inputs[0], cos: cos, sin: sin, mask: mask, cache: nil, index: i, recompute: false)]
                }[0]
            } else {
                hooks?.willRun(layer, next: next)
                x = layer(x, cos: cos, sin: sin, mask: mask, cache: cache, index: i, recompute: recompute)
                hooks?.didRun(layer)
            }
        }
        return norm(x)
    }

    /// Vocabulary logits for hidden states.
    public func logits(_ hidden: Tensor) -> Tensor {
        if let lmHead { return lmHead(hidden) }
        return Functional.linear(hidden, weight: embedTokens.weight.value)
    }
}

final class DecoderLayer: Module {
    let inputNorm: RMSNorm
    let postAttentionNorm: RMSNorm
    let q, k, v, o: Linear
    let gate, up, down: Linear
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let activation: Activation

    init(config c: DecoderConfig, _ scope: ModuleScope) throws {
        let h = c.hiddenSize
        heads = c.numAttentionHeads
        kvHeads = c.numKeyValueHeads
        headDim = c.headDim
        activation = c.hiddenAct
        let qkvBias = c.attentionBias
        let oBias = c.family == .llama && c.attentionBias
        // Built (and so registered and drawn by a random-weight loader) in this order since the first
        // release: moving a line changes every random test model.
        inputNorm = try RMSNorm(scope.child("input_layernorm"), dimension: h, eps: c.rmsNormEps)
        postAttentionNorm = try RMSNorm(scope.child("post_attention_layernorm"), dimension: h, eps: c.rmsNormEps)
        q = try Linear(scope.child("self_attn.q_proj"), inFeatures: h, outFeatures: heads * headDim, bias: qkvBias)
        k = try Linear(scope.child("self_attn.k_proj"), inFeatures: h, outFeatures: kvHeads * headDim, bias: qkvBias)
        v = try Linear(scope.child("self_attn.v_proj"), inFeatures: h, outFeatures: kvHeads * headDim, bias: qkvBias)
        o = try Linear(scope.child("self_attn.o_proj"), inFeatures: heads * headDim, outFeatures: h, bias: oBias)
        gate = try Linear(scope.child("mlp.gate_proj"), inFeatures: h, outFeatures: c.intermediateSize, bias: c.mlpBias)
        up = try Linear(scope.child("mlp.up_proj"), inFeatures: h, outFeatures: c.intermediateSize, bias: c.mlpBias)
        down = try Linear(scope.child("mlp.down_proj"), inFeatures: c.intermediateSize, outFeatures: h, bias: c.mlpBias)
        super.init(scope)
    }

    /// `recompute`: see `DecoderLM.recomputesElementwiseActivations`.
    func callAsFunction(_ x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor?, cache: KVCache?, index: Int, recompute: Bool) -> Tensor {
        let (b, t) = (x.size(0), x.size(1))
        let y = recompute ? inputNorm.recomputingInBackward(x) : inputNorm(x)
        let qs = RotaryEmbedding.apply(q(y).view(b, t, heads, headDim).transpose(1, 2), cos: cos, sin: sin)  // [B, H, T, D]
        var ks = RotaryEmbedding.apply(k(y).view(b, t, kvHeads, headDim).transpose(1, 2), cos: cos, sin: sin)
        var vs = v(y).view(b, t, kvHeads, headDim).transpose(1, 2)
        if let cache { (ks, vs) = cache.update(layer: index, keys: ks, values: vs) }
        let attended = Functional.scaledDotProductAttention(
            qs, ks, vs, mask: mask, isCausal: mask == nil && t > 1, scale: pow(Double(headDim), -0.5),
            enableGQA: kvHeads != heads)
        let x1 = x + o(attended.transpose(1, 2).reshape(b, t, heads * headDim))
        let z = recompute ? postAttentionNorm.recomputingInBackward(x1) : postAttentionNorm(x1)
        let (g, u) = (gate(z), up(z))
        // Recomputed, the backward pass keeps g and u (which the activation's and the product's gradients
        // need anyway) but not activation(g) as well.
        let product = recompute ? Checkpoint.run([g, u]) { [activation] in [activation($0[0]) * $0[1]] }[0] : activation(g) * u
        return x1 + down(product)
    }
}
