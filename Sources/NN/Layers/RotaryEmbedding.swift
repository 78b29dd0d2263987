import Torch

/// Rotary position embedding (RoPE) as transformers' Llama/Qwen2 apply it: frequencies
/// θ^(-2i/d), angles for each position computed in float32, `cos`/`sin` of the angles duplicated
/// over both halves, and rotate-half on the query and key.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let theta: Double
    public let scaling: RopeScaling

    public init(headDim: Int, theta: Double, scaling: RopeScaling = .none) {
        self.headDim = headDim
        self.theta = theta
        self.scaling = scaling
    }

    /// cos and sin `[B, 1, T, D]` for int64 `positions` `[B, T]`, in `dtype`.
    public func cosSin(positions: Tensor, dtype: DType) -> (cos: Tensor, sin: Tensor) {
        let device = positions.device
        // inv_freq = 1 / θ^(arange(0, d, 2)/d), as float32 the way transformers builds it.
        let exponents = Tensor.arange(0, Scalar(headDim), step: 2, dtype: .int64, device: device).to(.float32) / Double(headDim)
        var invFreq = 1.0 / Tensor.full([], Scalar(theta), dtype: .float32, device: device).pow(exponents)
        if case .linear(let factor) = scaling { invFreq = invFreq / factor }
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

/// How positions are scaled before the rotation (transformers' `rope_scaling`).
public enum RopeScaling: Sendable, Equatable {
    case none
    /// Positions divided by `factor` (rope type "linear").
    case linear(factor: Double)
}

/// Keys and values of earlier positions, per layer, for incremental decoding (inference only: the
/// history is written in place, so nothing may differentiate through it).
///
/// Each layer's history lives in one preallocated `[B, H, capacity, D]` buffer that a step writes
/// into and hands out as a view of its first `length` positions, instead of concatenating the whole
/// history into a new tensor every step (quadratic copying over a generation). A step past the
/// capacity doubles the buffer.
public final class KVCache {
    private var keyBuffers: [Tensor?]
    private var valueBuffers: [Tensor?]
    private var lengths: [Int]
    /// Positions to reserve at the first update (e.g. prompt width + new tokens); 0 = just enough.
    public let reservedCapacity: Int

    public init(layers: Int, capacity: Int = 0) {
        keyBuffers = Array(repeating: nil, count: layers)
        valueBuffers = Array(repeating: nil, count: layers)
        lengths = Array(repeating: 0, count: layers)
        reservedCapacity = capacity
    }

    /// Number of cached positions.
    public var length: Int { lengths.first ?? 0 }

    /// Cached keys of `layer`, `[B, H, length, D]` (a view into the buffer), nil before its first update.
    public func keys(layer: Int) -> Tensor? { keyBuffers[layer]?.narrow(2, start: 0, length: lengths[layer]) }

    /// Cached values of `layer`, `[B, H, length, D]`, nil before its first update.
    public func values(layer: Int) -> Tensor? { valueBuffers[layer]?.narrow(2, start: 0, length: lengths[layer]) }

    /// Appends this step's `k`, `v` `[B, H, T, D]` for `layer` and returns the full history (views).
    public func update(layer: Int, keys k: Tensor, values v: Tensor) -> (Tensor, Tensor) {
        let used = lengths[layer]
        let needed = used + k.size(2)
        let capacity = keyBuffers[layer]?.size(2) ?? 0
        if needed > capacity {
            let size = Swift.max(needed, reservedCapacity, 2 * capacity)
            keyBuffers[layer] = Self.grow(keyBuffers[layer], used: used, like: k, size: size)
            valueBuffers[layer] = Self.grow(valueBuffers[layer], used: used, like: v, size: size)
        }
        guard let keyBuffer = keyBuffers[layer], let valueBuffer = valueBuffers[layer] else { return (k, v) }
        keyBuffer.narrow(2, start: used, length: k.size(2)).copy_(k)
        valueBuffer.narrow(2, start: used, length: v.size(2)).copy_(v)
        lengths[layer] = needed
        return (keyBuffer.narrow(2, start: 0, length: needed), valueBuffer.narrow(2, start: 0, length: needed))
    }

    /// A buffer of `size` positions shaped like `x` along the other dimensions, holding `old`'s first `used`.
    private static func grow(_ old: Tensor?, used: Int, like x: Tensor, size: Int) -> Tensor {
        var shape = x.shape
        shape[2] = size
        let buffer = Tensor.empty(shape, dtype: x.dtype, device: x.device)
        if let old, used > 0 { buffer.narrow(2, start: 0, length: used).copy_(old.narrow(2, start: 0, length: used)) }
        return buffer
    }
}
