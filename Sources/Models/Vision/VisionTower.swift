import NN
import Torch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The vision transformer of CLIP and SigLIP, written once. The families differ only in their
/// embeddings (CLIP: class token, no patch bias, a pre-layernorm; SigLIP: no class token) and in
/// activation/epsilon, which come from the config. Parameter names follow the checkpoints
/// (`vision_model.embeddings.patch_embedding.weight`, `vision_model.encoder.layers.0.…`).
public final class VisionTower: Module {
    public let config: VisionConfig
    let patchWeight: Parameter
    let patchBias: Parameter?
    let classEmbedding: Parameter?
    let positionEmbedding: Embedding
    let preLayerNorm: LayerNorm?
    let layers: [VisionEncoderLayer]
    let postLayerNorm: LayerNorm
    let head: UnusedParameters?
    /// Recompute each encoder layer in the backward pass instead of keeping its activations
    /// (transformers' gradient checkpointing). It only takes effect when the tower is trained: a
    /// frozen tower's activations need no gradient and are not kept anyway.
    public var gradientCheckpointing = false

    public init(config: VisionConfig, loader: WeightLoader, prefix: String) throws {
        self.config = config
        let clip = config.family == .clip
        let h = config.hiddenSize
        let root = joinKey(prefix, "vision_model")
        let emb = joinKey(root, "embeddings")
        patchWeight = try loader.take(joinKey(emb, "patch_embedding.weight"),
                                      shape: [h, config.numChannels, config.patchSize, config.patchSize])
        patchBias = clip ? nil : try loader.take(joinKey(emb, "patch_embedding.bias"), shape: [h])
        classEmbedding = clip ? try loader.take(joinKey(emb, "class_embedding"), shape: [h]) : nil
        positionEmbedding = try Embedding(loader, prefix: joinKey(emb, "position_embedding"),
                                          count: config.patchCount + (clip ? 1 : 0), dimension: h)
        // Older transformers saved the position-id buffer; it is derived, not a weight.
        loader.discard(joinKey(emb, "position_ids"))
        preLayerNorm = clip ? try LayerNorm(loader, prefix: joinKey(root, "pre_layrnorm"), dimension: h, eps: config.layerNormEps) : nil
        layers = try (0..<config.numHiddenLayers).map {
            try VisionEncoderLayer(config: config, loader: loader,
                                   prefix: joinKey(root, "encoder.layers.\($0)"))
        }
        postLayerNorm = try LayerNorm(loader, prefix: joinKey(root, "post_layernorm"), dimension: h, eps: config.layerNormEps)
        // SigLIP's attention-pooling head is kept for saving but LLaVA never runs it.
        let headPrefix = joinKey(root, "head")
        head = config.visionUseHead ? UnusedParameters(loader.takeAll(prefix: headPrefix + "."), prefix: headPrefix) : nil
    }

    /// Embeddings for `pixels` `[N, C, H, W]` → `[N, P(+1), hidden]`.
    func embed(_ pixels: Tensor) -> Tensor {
        let w = patchWeight.value
        let p = config.patchSize
        let patches = Functional.conv2d(pixels.to(w.dtype), weight: w, bias: patchBias?.value, stride: (p, p))
            .flatten(2).transpose(1, 2)  // [N, P, hidden]
        var x = patches
        if let cls = classEmbedding?.value {
            x = Tensor.cat([cls.view(1, 1, -1).expand(patches.size(0), 1, -1), patches], dim: 1)
        }
        return x + positionEmbedding.weight.value
    }

    /// transformers' `hidden_states` tuple up to `count` entries: entry 0 is the encoder input
    /// (after CLIP's pre-layernorm), entry i the output of layer i. Only the layers needed run.
    public func hiddenStates(_ pixels: Tensor, count: Int) -> [Tensor] {
        var x = embed(pixels)
        if let preLayerNorm { x = preLayerNorm(x) }
        var states = [x]
        let checkpointed = gradientCheckpointing && Autograd.isEnabled
        for layer in layers.prefix(Swift.max(0, count - 1)) {
            x = checkpointed ? Checkpoint.run([x]) { [layer($0[0])] }[0] : layer(x)
            states.append(x)
        }
        return states
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

    public func collectParameters(prefix: String, into list: inout [(String, Parameter)]) {
        let root = joinKey(prefix, "vision_model")
        let emb = joinKey(root, "embeddings")
        list.append((joinKey(emb, "patch_embedding.weight"), patchWeight))
        if let patchBias { list.append((joinKey(emb, "patch_embedding.bias"), patchBias)) }
        if let classEmbedding { list.append((joinKey(emb, "class_embedding"), classEmbedding)) }
        positionEmbedding.collectParameters(prefix: joinKey(emb, "position_embedding"), into: &list)
        preLayerNorm?.collectParameters(prefix: joinKey(root, "pre_layrnorm"), into: &list)
        for (i, layer) in layers.enumerated() { layer.collectParameters(prefix: joinKey(root, "encoder.layers.\(i)"), into: &list) }
        postLayerNorm.collectParameters(prefix: joinKey(root, "post_layernorm"), into: &list)
        head?.collectParameters(prefix: joinKey(root, "head"), into: &list)
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

    init(config: VisionConfig, loader: WeightLoader, prefix: String) throws {
        let h = config.hiddenSize
        layerNorm1 = try LayerNorm(loader, prefix: joinKey(prefix, "layer_norm1"), dimension: h, eps: config.layerNormEps)
        layerNorm2 = try LayerNorm(loader, prefix: joinKey(prefix, "layer_norm2"), dimension: h, eps: config.layerNormEps)
        q = try Linear(loader, prefix: joinKey(prefix, "self_attn.q_proj"), inFeatures: h, outFeatures: h, bias: true)
        k = try Linear(loader, prefix: joinKey(prefix, "self_attn.k_proj"), inFeatures: h, outFeatures: h, bias: true)
        v = try Linear(loader, prefix: joinKey(prefix, "self_attn.v_proj"), inFeatures: h, outFeatures: h, bias: true)
        out = try Linear(loader, prefix: joinKey(prefix, "self_attn.out_proj"), inFeatures: h, outFeatures: h, bias: true)
        fc1 = try Linear(loader, prefix: joinKey(prefix, "mlp.fc1"), inFeatures: h, outFeatures: config.intermediateSize, bias: true)
        fc2 = try Linear(loader, prefix: joinKey(prefix, "mlp.fc2"), inFeatures: config.intermediateSize, outFeatures: h, bias: true)
        heads = config.numAttentionHeads
        activation = config.hiddenAct
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

    func collectParameters(prefix: String, into list: inout [(String, Parameter)]) {
        layerNorm1.collectParameters(prefix: joinKey(prefix, "layer_norm1"), into: &list)
        q.collectParameters(prefix: joinKey(prefix, "self_attn.q_proj"), into: &list)
        k.collectParameters(prefix: joinKey(prefix, "self_attn.k_proj"), into: &list)
        v.collectParameters(prefix: joinKey(prefix, "self_attn.v_proj"), into: &list)
        out.collectParameters(prefix: joinKey(prefix, "self_attn.out_proj"), into: &list)
        layerNorm2.collectParameters(prefix: joinKey(prefix, "layer_norm2"), into: &list)
        fc1.collectParameters(prefix: joinKey(prefix, "mlp.fc1"), into: &list)
        fc2.collectParameters(prefix: joinKey(prefix, "mlp.fc2"), into: &list)
    }
}
