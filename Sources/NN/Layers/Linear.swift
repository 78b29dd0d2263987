import Torch

/// y = x Wᵀ + b, with `weight` `[out, in]` as in torch.nn.Linear checkpoints.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ scope: ModuleScope, inFeatures: Int, outFeatures: Int, bias: Bool) throws {
        weight = try scope.parameter("weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? try scope.parameter("bias", shape: [outFeatures]) : nil
        super.init(scope)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Functional.linear(x, weight: weight.value, bias: bias?.value)
    }
}

/// A lookup table of row vectors (torch.nn.Embedding).
public final class Embedding: Module {
    public let weight: Parameter
    /// A row that receives no gradient through the lookup (HF's `padding_idx`, the pad token).
    public let paddingIndex: Int?

    public init(_ scope: ModuleScope, count: Int, dimension: Int, paddingIndex: Int? = nil) throws {
        weight = try scope.parameter("weight", shape: [count, dimension])
        self.paddingIndex = paddingIndex.flatMap { (0..<count).contains($0) ? $0 : nil }
        super.init(scope)
    }

    public func callAsFunction(_ ids: Tensor) -> Tensor { Functional.embedding(ids, weight: weight.value, paddingIndex: paddingIndex) }
}

/// torch.nn.LayerNorm over the last dimension, with weight and bias.
public final class LayerNorm: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let eps: Double

    public init(_ scope: ModuleScope, dimension: Int, eps: Double) throws {
        weight = try scope.parameter("weight", shape: [dimension])
        bias = try scope.parameter("bias", shape: [dimension])
        self.eps = eps
        super.init(scope)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Functional.layerNorm(x, normalizedShape: [x.size(-1)], weight: weight.value, bias: bias.value, eps: eps)
    }
}

/// RMS normalisation as Llama and Qwen2 compute it in transformers: the statistic in float32, the
/// normalised value cast back to the input dtype, then scaled by the weight (in the weight's dtype).
public final class RMSNorm: Module {
    public let weight: Parameter
    public let eps: Double

    public init(_ scope: ModuleScope, dimension: Int, eps: Double) throws {
        weight = try scope.parameter("weight", shape: [dimension])
        self.eps = eps
        super.init(scope)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { Self.normalise(x, weight: weight.value, eps: eps) }

    /// The same value, but the backward pass keeps only `x` and recomputes the normalisation from it
    /// instead of holding its float32 intermediates (as large as `x` again) from forward to backward.
    /// Bitwise the same forward; gradients equal up to the order in which the weight's are summed.
    public func recomputingInBackward(_ x: Tensor) -> Tensor {
        // The weight is read again when recomputing (as a checkpointed layer reads its parameters), and
        // the recomputation's backward accumulates into its gradient.
        Checkpoint.run([x]) { [self] in [Self.normalise($0[0], weight: weight.value, eps: eps)] }[0]
    }

    static func normalise(_ x: Tensor, weight: Tensor, eps: Double) -> Tensor {
        let inputType = x.dtype
        let h = x.to(.float32)
        let variance = h.square().mean(dim: -1, keepDim: true)
        let normalised = (h * (variance + eps).rsqrt()).to(inputType)
        return weight * normalised
    }
}

/// Weights a checkpoint carries under this module's key that the model keeps for saving but never
/// runs (frozen, as stored): every tensor left under the key when it is built.
public final class UnusedParameters: Module {
    public override init(_ scope: ModuleScope) {
        scope.keepRemaining()
        super.init(scope)
    }
}
