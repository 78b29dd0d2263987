import NN
import Torch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The vision transformer of CLIP and SigLIP, written once. The families differ only in their
/// embeddings (CLIP: class token, no patch bias, a pre-layernorm; SigLIP: no class token) and in
/// activation/epsilon, which come from the config. Keys follow the checkpoints
/// (`vision_model.embeddings.patch_embedding.weight`, `vision_model.encoder.layers.0.…`).
public final class VisionTower: Module, LayeredModule {
    public let config: VisionConfig
    let embeddings: VisionEmbeddings
    let preLayerNorm: LayerNorm?
    let layers: [VisionEncoderLayer]
    let postLayerNorm: LayerNorm
    /// SigLIP's attention-pooling head (when the config has one): never run by LLaVA, which reads
    /// hidden states; it makes SigLIP's image features (``pooledOutput(_:)``).
    let head: AttentionPoolingHead?
    /// Recompute each encoder layer in the backward pass instead of keeping its activations
    /// (transformers' gradient checkpointing). It only takes effect when the tower is trained: a
    /// frozen tower's activations need no gradient and are not kept anyway.
    public var gradientCheckpointing = false
    /// Runs around each encoder layer (ZeRO-3 gathers and frees the layer's parameters there).
    public var layerHooks: (any LayerHooks)?
    public var blocks: [Module] { layers }

    public init(config: VisionConfig, _ scope: ModuleScope) throws {
        self.config = config
        let h = config.hiddenSize
        embeddings = try VisionEmbeddings(config: config, scope.child("vision_model.embeddings"))
        preLayerNorm = config.family == .clip
            ? try LayerNorm(scope.child("vision_model.pre_layrnorm"), dimension: h, eps: config.layerNormEps) : nil
        layers = try (0..<config.numHiddenLayers).map {
            try VisionEncoderLayer(config: config, scope.child("vision_model.encoder.layers.\($0)"))
        }
        postLayerNorm = try LayerNorm(scope.child("vision_model.post_layernorm"), dimension: h, eps: config.layerNormEps)
        head = config.visionUseHead ? try AttentionPoolingHead(config: config, scope.child("vision_model.head")) : nil
        super.init(scope)
    }

    /// transformers' `hidden_states` tuple up to `count` entries: entry 0 is the encoder input
    /// (after CLIP's pre-layernorm), entry i the output of layer i. Only the layers needed run.
    public func hiddenStates(_ pixels: Tensor, count: Int) -> [Tensor] {
        var x = embeddings(pixels)
        if let preLayerNorm { x = preLayerNorm(x) }
        var states = [x]
        let checkpointed = gradientCheckpointing && Autograd.isEnabled
        let hooks = layerHooks
        let running = Array(layers.prefix(Swift.max(0, count - 1)))
        for (i, layer) in running.enumerated() {
            let next = i + 1 < running.count ? running[i + 1] : nil
            if checkpointed {
                x = Checkpoint.run([x], afterBackward: hooks.map { hooks in { hooks.didBackward(layer) } }) { inputs in
                    hooks?.willRun(layer, next: next)
                    defer { hooks?.didRun(layer) }
                    return [layer(inputs[0])]
                }[0]
            } else {
                hooks?.willRun(layer, next: next)
                x = layer(x)
                hooks?.didRun(layer)
            }
            states.append(x)
        }
        return states
    }

    /// Whether the tower has SigLIP's attention-pooling head (``pooledOutput(_:)``).
    public var hasPoolingHead: Bool { head != nil }

    /// transformers' `last_hidden_state`: every layer, then the post-layernorm. `[N, P(+1), hidden]`.
    public func lastHiddenState(_ pixels: Tensor) -> Tensor {
        postLayerNorm(hiddenStates(pixels, count: layers.count + 1)[layers.count])
    }

    /// SigLIP's `pooler_output` — what `SiglipModel.get_image_features` returns: the attention-pooling
    /// head over ``lastHiddenState(_:)``, `[N, hidden]`. Only for a tower with the head.
    public func pooledOutput(_ pixels: Tensor) -> Tensor {
        guard let head else { preconditionFailure("pooledOutput needs SigLIP's attention-pooling head (vision_use_head)") }
        return head(lastHiddenState(pixels))
    }

    /// `hidden_states[index]` for each index (negative counts from the end, as in Python), each with
    /// the CLS position dropped when `dropFirst`, concatenated along features.
    public func features(_ pixels: Tensor, layers indices: [Int], dropFirst: Bool) -> Tensor {
        let total = layers.count + 1
        let resolved = indices.map { $0 < 0 ? $0 + total : $0 }
        let states = hiddenStates(pixels, count: (resolved.max() ?? 0) + 1)
        let picked = resolved.map { i -> Tensor in
            let s = states[i]
            return dropFirst ? s.narrow(1, start: 1, length: s.size(1) - 1) : s
        }
        return picked.count == 1 ? picked[0] : Tensor.cat(picked, dim: -1)
    }
}

/// Patch embeddings (a strided convolution), CLIP's class token, and learned position embeddings.
final class VisionEmbeddings: Module {
    let patchSize: Int
    let patchWeight: Parameter
    let patchBias: Parameter?
    let classEmbedding: Parameter?
    let positionEmbedding: Embedding

    init(config: VisionConfig, _ scope: ModuleScope) throws {
        let clip = config.family == .clip
        let h = config.hiddenSize
        patchSize = config.patchSize
        patchWeight = try scope.parameter("patch_embedding.weight", shape: [h, config.numChannels, config.patchSize, config.patchSize])
        patchBias = clip ? nil : try scope.parameter("patch_embedding.bias", shape: [h])
        classEmbedding = clip ? try scope.parameter("class_embedding", shape: [h]) : nil
        positionEmbedding = try Embedding(scope.child("position_embedding"), count: config.patchCount + (clip ? 1 : 0), dimension: h)
        // Older transformers saved the position-id buffer; it is derived, not a weight.
        scope.discard("position_ids")
        super.init(scope)
    }

    /// Embeddings for `pixels` `[N, C, H, W]` → `[N, P(+1), hidden]`.
    func callAsFunction(_ pixels: Tensor) -> Tensor {
        let w = patchWeight.value
        let patches = Functional.conv2d(pixels.to(w.dtype), weight: w, bias: patchBias?.value, stride: (patchSize, patchSize))
            .flatten(2).transpose(1, 2)  // [N, P, hidden]
        var x = patches
        if let cls = classEmbedding?.value {
            x = Tensor.cat([cls.view(1, 1, -1).expand(patches.size(0), 1, -1), patches], dim: 1)
        }
        return x + positionEmbedding.weight.value
    }
}

/// Pre-norm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)).
final class VisionEncoderLayer: Module {
    let layerNorm1: LayerNorm
    let layerNorm2: LayerNorm
    let q, k, v, out: Linear
    let fc1, fc2: Linear
    let heads: Int
    let activation: Activation

    init(config: VisionConfig, _ scope: ModuleScope) throws {
        let h = config.hiddenSize
        // Built (and so registered and drawn by a random-weight loader) in this order since the first
        // release: moving a line changes every random test model.
        layerNorm1 = try LayerNorm(scope.child("layer_norm1"), dimension: h, eps: config.layerNormEps)
        layerNorm2 = try LayerNorm(scope.child("layer_norm2"), dimension: h, eps: config.layerNormEps)
        q = try Linear(scope.child("self_attn.q_proj"), inFeatures: h, outFeatures: h, bias: true)
        k = try Linear(scope.child("self_attn.k_proj"), inFeatures: h, outFeatures: h, bias: true)
        v = try Linear(scope.child("self_attn.v_proj"), inFeatures: h, outFeatures: h, bias: true)
        out = try Linear(scope.child("self_attn.out_proj"), inFeatures: h, outFeatures: h, bias: true)
        fc1 = try Linear(scope.child("mlp.fc1"), inFeatures: h, outFeatures: config.intermediateSize, bias: true)
        fc2 = try Linear(scope.child("mlp.fc2"), inFeatures: config.intermediateSize, outFeatures: h, bias: true)
        heads = config.numAttentionHeads
        activation = config.hiddenAct
        super.init(scope)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let (n, t, h) = (x.size(0), x.size(1), x.size(2))
        let d = h / heads
        func split(_ y: Tensor) -> Tensor { y.view(n, t, heads, d).transpose(1, 2) }  // [N, heads, T, d]
        let y = layerNorm1(x)
        // transformers passes scale = head_dim ** -0.5 explicitly; use the same number.
        let attended = Functional.scaledDotProductAttention(split(q(y)), split(k(y)), split(v(y)),
                                                            scale: pow(Double(d), -0.5))
        let x1 = x + out(attended.transpose(1, 2).reshape(n, t, h))
        return x1 + fc2(activation(fc1(layerNorm2(x1))))
    }
}
