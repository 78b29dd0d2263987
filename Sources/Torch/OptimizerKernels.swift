import CTorch

/// The update kernels optimisers are built from.
public enum OptimizerKernels {
    /// One AdamW step (decoupled weight decay, bias-corrected moments) over every parameter with
    /// ATen's fused kernel — the update `torch.optim.AdamW(fused=True)` applies:
    ///
    ///     step += 1
    ///     p   -= lr · wd · p
    ///     m    = β1 m + (1-β1) g;   v = β2 v + (1-β2) g²
    ///     p   -= lr / (1-β1^step) · m / (√v / √(1-β2^step) + eps)
    ///
    /// `steps` are float32 scalars on each parameter's device; the kernel increments them.
    public static func fusedAdamW(params: [Tensor], grads: [Tensor], expAvgs: [Tensor], expAvgSqs: [Tensor],
                                  steps: [Tensor], lr: Double, beta1: Double, beta2: Double,
                                  weightDecay: Double, eps: Double) {
        precondition([grads.count, expAvgs.count, expAvgSqs.count, steps.count].allSatisfy { $0 == params.count },
                     "fusedAdamW: every list needs one entry per parameter")
        let status = withHandles(params) { p, n in
            withHandles(grads) { g, _ in
                withHandles(expAvgs) { m, _ in
                    withHandles(expAvgSqs) { v, _ in
                        withHandles(steps) { s, _ in
                            ct_fused_adamw_(p, g, m, v, s, n, lr, beta1, beta2, weightDecay, eps)
                        }
                    }
                }
            }
        }
        TorchOp.status(status, "_fused_adamw_", params)
    }

    /// Scales `grads` in place so that their global 2-norm is at most `maxNorm`, exactly as
    /// `torch.nn.utils.clip_grad_norm_` (factor min(1, maxNorm / (norm + 1e-6))). Returns the norm
    /// before clipping.
    @discardableResult
    public static func clipGradNorm(_ grads: [Tensor], maxNorm: Double) -> Double {
        var norm = 0.0
        let status = withHandles(grads) { ct_clip_grad_norm_($0, $1, maxNorm, &norm) }
        TorchOp.status(status, "clip_grad_norm_", grads)
        return norm
    }
}
