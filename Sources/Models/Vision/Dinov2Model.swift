import NN
import Torch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// DINOv2 (transformers' `Dinov2Model`): patch embeddings with a CLS token, position embeddings
/// interpolated from the checkpoint's grid to the input's, pre-norm layers with layer scale, a
/// final layer norm. Its ``imageEmbeddings(_:)`` are `pooler_output`, the layer-normed CLS token.
/// Keys as the HF checkpoints store them (`embeddings.cls_token`, `encoder.layer.0.attention.attention.query.weight`, …).
public final class Dinov2Model: Module, ImageEmbeddingModel {
    public static let modelType = "dinov2"
    public static var modelTypes: [String] { [modelType] }

    public let config: Dinov2Config
    let embeddings: Dinov2Embeddings
    let layers: [Dinov2Layer]
    let layerNorm: LayerNorm

    /// Builds the model from `loader` (strict: ``WeightLoader/finish()`` is called).
    public init(config: Dinov2Config, loader: WeightLoader) throws {
        self.config = config
        let scope = ModuleScope(loader: loader)
        embeddings = try Dinov2Embeddings(config: config, scope.child("embeddings"))
        layers = try (0..<config.numHiddenLayers).map { try Dinov2Layer(config: config, scope.child("encoder.layer.\($0)")) }
        layerNorm = try LayerNorm(scope.child("layernorm"), dimension: config.hiddenSize, eps: config.layerNormEps)
        super.init(scope)
        try loader.finish()
    }

    public convenience init(configFile: String, loader: WeightLoader) throws {
        try self.init(config: try ConfigFile.decode(Dinov2Config.self, path: configFile), loader: loader)
    }

    /// transformers' `last_hidden_state`: `[N, 1 + patches, hidden]` for images `[N, C, H, W]`
    /// (any size of at least one patch; the position embeddings follow the input's grid).
    public func lastHiddenState(_ pixels: Tensor) -> Tensor {
        var x = embeddings(pixels)
        for layer in layers { x = layer(x) }
        return layerNorm(x)
    }

    /// `pooler_output`: the layer-normed CLS token, `[N, hidden]`.
    public func imageEmbeddings(_ pixels: Tensor) -> Tensor { lastHiddenState(pixels).select(1, 0) }

    /// Any size is accepted: the position embeddings are interpolated to the input's grid.
    public var requiredImageSize: Int? { nil }
}

/// CLS token, patch embeddings (a strided convolution) and position embeddings.
final class Dinov2Embeddings: Module {
    let clsToken: Parameter
    /// For masked-image pretraining: loaded with the checkpoint, never used here.
    let maskToken: Parameter?
    let patchWeight: Parameter
    let patchBias: Parameter
    let positionEmbeddings: Parameter
    let patchSize: Int
    let gridSize: Int

    init(config: Dinov2Config, _ scope: ModuleScope) throws {
        let h = config.hiddenSize
        // Built in the checkpoint's order of declaration (transformers' __init__).
        clsToken = try scope.parameter("cls_token", shape: [1, 1, h])
        maskToken = config.useMaskToken ? try scope.parameter("mask_token", shape: [1, h]) : nil
        patchWeight = try scope.parameter("patch_embeddings.projection.weight", shape: [h, config.numChannels, config.patchSize, config.patchSize])
        patchBias = try scope.parameter("patch_embeddings.projection.bias", shape: [h])
        positionEmbeddings = try scope.parameter("position_embeddings", shape: [1, config.gridSize * config.gridSize + 1, h])
        patchSize = config.patchSize
        gridSize = config.gridSize
        super.init(scope)
    }

    func callAsFunction(_ pixels: Tensor) -> Tensor {
        let w = patchWeight.value
        let (n, height, width) = (pixels.size(0), pixels.size(2), pixels.size(3))
        let patches = Functional.conv2d(pixels.to(w.dtype), weight: w, bias: patchBias.value, stride: (patchSize, patchSize))
            .flatten(2).transpose(1, 2)  // [N, P, hidden]
        let x = Tensor.cat([clsToken.value.expand(n, 1, w.size(0)), patches], dim: 1)
        return x + positions(height: height, width: width, patchCount: patches.size(1))
    }

    /// transformers' `interpolate_pos_encoding` (the same in 4.45 and 4.57): the stored grid as is
    /// when the input has as many patches and is square; else the patch part resized bicubically
    /// (`size=(H // patch, W // patch)`, `align_corners=False`, no antialias — unlike the
    /// original DINOv2 code's scale factor) in float32 and cast back, the CLS position unchanged.
    func positions(height: Int, width: Int, patchCount: Int) -> Tensor {
        let stored = positionEmbeddings.value  // [1, 1 + grid², hidden]
        if patchCount == gridSize * gridSize && height == width { return stored }
        let dim = stored.size(2)
        let cls = stored.narrow(1, start: 0, length: 1)
        let grid = stored.narrow(1, start: 1, length: gridSize * gridSize)
            .reshape(1, gridSize, gridSize, dim).permute(0, 3, 1, 2)  // [1, hidden, grid, grid]
        let resized = Functional.upsampleBicubic2d(grid.to(.float32), height: height / patchSize, width: width / patchSize)
            .to(stored.dtype)
            .permute(0, 2, 3, 1).reshape(1, -1, dim)  // [1, H' · W', hidden]
        return Tensor.cat([cls, resized], dim: 1)
    }
}

/// Pre-norm block with layer scale: x + λ₁ · attn(norm1(x)), then + λ₂ · mlp(norm2(x)).
final class Dinov2Layer: Module {
    let norm1: LayerNorm
    let query, key, value, output: Linear
    let layerScale1: Parameter
    let norm2: LayerNorm
    let mlp: Dinov2MLP
    let layerScale2: Parameter
    let heads: Int

    init(config: Dinov2Config, _ scope: ModuleScope) throws {
        let h = config.hiddenSize
        norm1 = try LayerNorm(scope.child("norm1"), dimension: h, eps: config.layerNormEps)
        query = try Linear(scope.child("attention.attention.query"), inFeatures: h, outFeatures: h, bias: config.qkvBias)
        key = try Linear(scope.child("attention.attention.key"), inFeatures: h, outFeatures: h, bias: config.qkvBias)
        value = try Linear(scope.child("attention.attention.value"), inFeatures: h, outFeatures: h, bias: config.qkvBias)
        output = try Linear(scope.child("attention.output.dense"), inFeatures: h, outFeatures: h, bias: true)
        layerScale1 = try scope.parameter("layer_scale1.lambda1", shape: [h])
        norm2 = try LayerNorm(scope.child("norm2"), dimension: h, eps: config.layerNormEps)
        mlp = try Dinov2MLP(config: config, scope.child("mlp"))
        layerScale2 = try scope.parameter("layer_scale2.lambda1", shape: [h])
        heads = config.numAttentionHeads
        super.init(scope)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let (n, t, h) = (x.size(0), x.size(1), x.size(2))
        let d = h / heads
        func split(_ y: Tensor) -> Tensor { y.view(n, t, heads, d).transpose(1, 2) }  // [N, heads, T, d]
        let y = norm1(x)
        let attended = Functional.scaledDotProductAttention(split(query(y)), split(key(y)), split(value(y)),
                                                            scale: pow(Double(d), -0.5))
        let x1 = x + output(attended.transpose(1, 2).reshape(n, t, h)) * layerScale1.value
        return x1 + mlp(norm2(x1)) * layerScale2.value
    }
}

/// fc1 → activation → fc2, or dinov2-giant's SwiGLU (`weights_in` → silu(a) · b → `weights_out`).
final class Dinov2MLP: Module {
    let first, second: Linear
    let swiglu: Bool
    let activation: Activation

    init(config: Dinov2Config, _ scope: ModuleScope) throws {
        let h = config.hiddenSize, width = config.mlpWidth
        swiglu = config.useSwigluFfn
        first = try Linear(scope.child(swiglu ? "weights_in" : "fc1"), inFeatures: h, outFeatures: swiglu ? 2 * width : width, bias: true)
        second = try Linear(scope.child(swiglu ? "weights_out" : "fc2"), inFeatures: width, outFeatures: h, bias: true)
        activation = config.hiddenAct
        super.init(scope)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let y = first(x)
        guard swiglu else { return second(activation(y)) }
        let half = y.size(-1) / 2
        return second(y.narrow(-1, start: 0, length: half).silu() * y.narrow(-1, start: half, length: half))
    }
}
