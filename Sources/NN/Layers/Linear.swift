import Torch

/// y = x Wᵀ + b, with `weight` `[out, in]` as in torch.nn.Linear checkpoints.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ loader: WeightLoader, prefix: String, inFeatures: Int, outFeatures: Int, bias: Bool) throws {
        weight = try loader.take(joinKey(prefix, "weight"), shape: [outFeatures, inFeatures])
        self.bias = bias ? try loader.take(joinKey(prefix, "bias"), shape: [outFeatures]) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Functional.linear(x, weight: weight.value, bias: bias?.value)
    }

    public func collectParameters(prefix: String, into list: inout [(String, Parameter)]) {
        list.append((joinKey(prefix, "weight"), weight))
        if let bias { list.append((joinKey(prefix, "bias"), bias)) }
    }
}

/// A lookup table of row vectors (torch.nn.Embedding).
public final class Embedding: Module {
    public let weight: Parameter
    /// A row that receives no gradient through the lookup (HF's `padding_idx`, the pad token).
    public let paddingIndex: Int?

    public init(_ loader: WeightLoader, prefix: String, count: Int, dimension: Int, paddingIndex: Int? = nil) throws {
        weight = try loader.take(joinKey(prefix, "weight"), shape: [count, dimension])
        self.paddingIndex = paddingIndex.flatMap { (0..<count).contains($0) ? $0 : nil }
    }

    public func callAsFunction(_ ids: Tensor) -> Tensor { Functional.embedding(ids, weight: weight.value, paddingIndex: paddingIndex) }

    public func collectParameters(prefix: String, into list: inout [(String, Parameter)]) {
        list.append((joinKey(prefix, "weight"), weight))
    }
}

/// torch.nn.LayerNorm over the last dimension, with weight and bias.
public final class LayerNorm: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let eps: Double

    public init(_ loader: WeightLoader, prefix: String, dimension: Int, eps: Double) throws {
        weight = try loader.take(joinKey(prefix, "weight"), shape: [dimension])
        bias = try loader.take(joinKey(prefix, "bias"), shape: [dimension])
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Functional.layerNorm(x, normalizedShape: [x.size(-1)], weight: weight.value, bias: bias.value, eps: eps)
    }

    public func collectParameters(prefix: String, into list: inout [(String, Parameter)]) {
        list.append((joinKey(prefix, "weight"), weight))
        list.append((joinKey(prefix, "bias"), bias))
    }
}

/// RMS normalisation as Llama and Qwen2 compute it in transformers: the statistic in float32, the
/// normalised value cast back to the input dtype, then scaled by the weight (in the weight's dtype).
public final class RMSNorm: Module {
    public let weight: Parameter
    public let eps: Double

    public init(_ loader: WeightLoader, prefix: String, dimension: Int, eps: Double) throws {
        weight = try loader.take(joinKey(prefix, "weight"), shape: [dimension])
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let inputType = x.dtype
        let h = x.to(.float32)
        let variance = h.square().mean(dim: -1, keepDim: true)
        let normalised = (h * (variance + eps).rsqrt()).to(inputType)
        return weight.value * normalised
    }

    public func collectParameters(prefix: String, into list: inout [(String, Parameter)]) {
        list.append((joinKey(prefix, "weight"), weight))
    }
}

/// Parameters a module keeps for saving but never uses in its computation (frozen).
public final class UnusedParameters: Module {
    public let parameters: [(String, Parameter)]

    public init(_ parameters: [(String, Parameter)], prefix: String) {
        self.parameters = parameters.map { (String($0.0.dropFirst(prefix.isEmpty ? 0 : prefix.count + 1)), $0.1) }
    }

    public func collectParameters(prefix: String, into list: inout [(String, Parameter)]) {
        for (name, p) in parameters { list.append((joinKey(prefix, name), p)) }
    }
}
