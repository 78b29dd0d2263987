import CTorch

/// Neural-network functions (torch.nn.functional).
public enum Functional {
    /// y = x Wᵀ + b with `weight` `[out, in]`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        TorchOp.result(ct_linear(x.handle, weight.handle, bias?.handle), "linear", [x, weight] + (bias.map { [$0] } ?? []))
    }

    /// Rows of `weight` picked by the int64 `ids`; the row `paddingIndex` (if any) gets no gradient.
    public static func embedding(_ ids: Tensor, weight: Tensor, paddingIndex: Int? = nil) -> Tensor {
        TorchOp.result(ct_embedding(weight.handle, ids.handle, Int64(paddingIndex ?? -1)), "embedding", [weight, ids])
    }

    public static func layerNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?,
                                 eps: Double = 1e-5) -> Tensor {
        TorchOp.result(withInt64s(normalizedShape) { ct_layer_norm(x.handle, $0, $1, weight?.handle, bias?.handle, eps) },
                       "layer_norm", [x])
    }

    /// torch's fused RMS norm: x / sqrt(mean(x²) + eps) * weight.
    public static func rmsNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor?, eps: Double) -> Tensor {
        TorchOp.result(withInt64s(normalizedShape) { ct_rms_norm(x.handle, $0, $1, weight?.handle, eps) }, "rms_norm", [x])
    }

    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                              padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        let s = [Int64(stride.0), Int64(stride.1)]
        let p = [Int64(padding.0), Int64(padding.1)]
        let d = [Int64(dilation.0), Int64(dilation.1)]
        return TorchOp.result(ct_conv2d(x.handle, weight.handle, bias?.handle, s, p, d, Int64(groups)), "conv2d", [x, weight])
    }

    public static func dropout(_ x: Tensor, p: Double, training: Bool) -> Tensor {
        TorchOp.result(ct_dropout(x.handle, p, training ? 1 : 0), "dropout", [x])
    }

    /// Attention softmax(q kᵀ · scale + mask) v over `[B, H, T, D]` inputs.
    /// - Parameters:
    ///   - mask: bool (true = may attend) or additive float mask broadcastable to `[B, H, Tq, Tk]`.
    ///   - scale: defaults to 1/√D.
    ///   - enableGQA: lets k/v carry fewer heads than q (grouped-query attention).
    public static func scaledDotProductAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor? = nil,
                                                 dropout: Double = 0, isCausal: Bool = false,
                                                 scale: Double? = nil, enableGQA: Bool = false) -> Tensor {
        TorchOp.result(ct_sdpa(q.handle, k.handle, v.handle, mask?.handle, dropout, isCausal ? 1 : 0, scale ?? 0,
                               enableGQA ? 1 : 0), "scaled_dot_product_attention", [q, k, v])
    }

    /// Bicubic resize of `x` `[N, C, H, W]` to `[N, C, height, width]`: `F.interpolate(x, size=(height,
    /// width), mode="bicubic", align_corners=…)` — the scales derive from the sizes; no antialias.
    public static func upsampleBicubic2d(_ x: Tensor, height: Int, width: Int, alignCorners: Bool = false) -> Tensor {
        TorchOp.result(ct_upsample_bicubic2d(x.handle, Int64(height), Int64(width), alignCorners ? 1 : 0), "upsample_bicubic2d", [x])
    }

    public enum Reduction: Int32, Sendable { case none = 0, mean = 1, sum = 2 }

    /// Cross entropy of `logits` `[N, C]` against int64 `target` `[N]`; targets equal to
    /// `ignoreIndex` contribute nothing (and are left out of the mean).
    public static func crossEntropy(_ logits: Tensor, target: Tensor, ignoreIndex: Int = -100,
                                    reduction: Reduction = .mean, labelSmoothing: Double = 0) -> Tensor {
        TorchOp.result(ct_cross_entropy(logits.handle, target.handle, Int64(ignoreIndex), reduction.rawValue, labelSmoothing),
                       "cross_entropy", [logits, target])
    }
}

extension Tensor {
    /// Exact GELU, x · Φ(x).
    public func gelu() -> Tensor { unary(.gelu, "gelu") }
    /// GELU with the tanh approximation (SigLIP's `gelu_pytorch_tanh`).
    public func geluTanh() -> Tensor { unary(.geluTanh, "gelu_tanh") }
    /// x · σ(1.702 x), CLIP's activation.
    public func quickGelu() -> Tensor { unary(.quickGelu, "quick_gelu") }
    /// x · σ(x) (Llama/Qwen2's MLP activation).
    public func silu() -> Tensor { unary(.silu, "silu") }
}
