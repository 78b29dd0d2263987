import Torch

/// Rotary position embedding (RoPE) as transformers' Llama/Qwen2 apply it: frequencies
/// θ^(-2i/d), angles for each position computed in float32, `cos`/`sin` of the angles duplicated
/// over both halves, and rotate-half on the query and key.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let theta: Double
    /// Positions are divided by this (rope_scaling type "linear"); 1 otherwise.
    public let linearScale: Double

    public init(headDim: Int, theta: Double, linearScale: Double = 1) {
        self.headDim = headDim
        self.theta = theta
        self.linearScale = linearScale
    }

    /// cos and sin `[B, 1, T, D]` for int64 `positions` `[B, T]`, in `dtype`.
    public func cosSin(positions: Tensor, dtype: DType) -> (cos: Tensor, sin: Tensor) {
        let device = positions.device
        // inv_freq = 1 / θ^(arange(0, d, 2)/d), as float32 the way transformers builds it.
        let exponents = Tensor.arange(0, Scalar(headDim), step: 2, dtype: .int64, device: device).to(.float32) / Double(headDim)
        var invFreq = 1.0 / Tensor.full([], Scalar(theta), dtype: .float32, device: device).pow(exponents)
        if linearScale != 1 { invFreq = invFreq / linearScale }
        let angles = positions.to(.float32).unsqueeze(-1) * invFreq  // [B, T, D/2]
        let emb = Tensor.cat([angles, angles], dim: -1)  // [B, T, D]
        return (emb.cos().to(dtype).unsqueeze(1), emb.sin().to(dtype).unsqueeze(1))
    }

    /// Applies the rotation to `x` `[B, H, T, D]`.
    public static func apply(_ x: Tensor, cos: Tensor, sin: Tensor) -> Tensor {
        let half = x.size(-1) / 2
        let x1 = x.narrow(-1, start: 0, length: half)
        let x2 = x.narrow(-1, start: half, length: half)
        let rotated = Tensor.cat([x2.neg(), x1], dim: -1)
        return x * cos + rotated * sin
    }
}

/// Keys and values of earlier positions, per layer, for incremental decoding.
public final class KVCache {
    public private(set) var keys: [Tensor?]
    public private(set) var values: [Tensor?]

    public init(layers: Int) {
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
    }

    /// Number of cached positions.
    public var length: Int { keys.first.flatMap { $0 }?.size(2) ?? 0 }

    /// Appends this step's `k`, `v` `[B, H, T, D]` for `layer` and returns the full history.
    public func update(layer: Int, keys k: Tensor, values v: Tensor) -> (Tensor, Tensor) {
        let fullK = keys[layer].map { Tensor.cat([$0, k], dim: 2) } ?? k
        let fullV = values[layer].map { Tensor.cat([$0, v], dim: 2) } ?? v
        keys[layer] = fullK
        values[layer] = fullV
        return (fullK, fullV)
    }
}
