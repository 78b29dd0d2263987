/// A quick end-to-end check of the libtorch bridge on one device: every group of operations runs
/// on `device` in float32 and is compared with the same computation on the CPU in float64, plus
/// closed-form checks (AdamW step, SDPA against explicit softmax attention, clipping).
public struct SelfTest {
    public struct Outcome: Sendable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    public let device: Device
    public init(device: Device) { self.device = device }

    /// Runs every check, reporting each through `report` as it finishes.
    public func run(report: (Outcome) -> Void = { _ in }) -> [Outcome] {
        var outcomes: [Outcome] = []
        for (name, check) in checks {
            let outcome: Outcome
            let worst = check()
            if worst.isNaN || worst > 1e-4 {
                outcome = Outcome(name: name, passed: false, detail: "max difference \(worst)")
            } else {
                outcome = Outcome(name: name, passed: true, detail: "max difference \(worst)")
            }
            report(outcome)
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// Largest |a - b| relative to max(1, |b|), over all elements.
    static func difference(_ a: Tensor, _ b: Tensor) -> Double {
        let x = a.to(.float64, device: .cpu)
        let y = b.to(.float64, device: .cpu)
        guard x.shape == y.shape else { return .infinity }
        if x.count == 0 { return 0 }
        let scale = y.abs().clamp(min: 1.0)
        return ((x - y).abs() / scale).max().item().doubleValue
    }

    /// Runs `f` on (device, float32) and (CPU, float64) inputs and returns the worst difference.
    private func compare(_ inputs: [Tensor], _ f: ([Tensor]) -> [Tensor]) -> Double {
        let onDevice = f(inputs.map { $0.dtype.isFloatingPoint ? $0.to(.float32, device: device) : $0.to(device: device) })
        let reference = f(inputs.map { $0.dtype.isFloatingPoint ? $0.to(.float64, device: .cpu) : $0 })
        return zip(onDevice, reference).map { Self.difference($0, $1) }.max() ?? 0
    }

    private var checks: [(String, () -> Double)] {
        let g = Generator(seed: 1234)
        let a = Tensor.randn([4, 6], dtype: .float64, generator: g)
        let b = Tensor.randn([6, 5], dtype: .float64, generator: g)
        let c = Tensor.randn([4, 6], dtype: .float64, generator: g)
        let ids = Tensor([3, 0, 5, 1], shape: [4])
        return [
            ("elementwise arithmetic", { compare([a, c]) { x in [x[0] + x[1], x[0] - x[1] * 2.0, x[0] * x[1], x[0] / (x[1].abs() + 1.0)] } }),
            ("unary functions", {
                compare([a]) { x in
                    [x[0].exp(), x[0].abs().log1p(), x[0].abs().sqrt(), x[0].tanh(), x[0].sigmoid(), x[0].logSigmoid(),
                     x[0].gelu(), x[0].geluTanh(), x[0].quickGelu(), x[0].silu()]
                }
            }),
            ("matmul and linear", { compare([a, b, c]) { x in [x[0].matmul(x[1]), Functional.linear(x[0], weight: x[2], bias: nil)] } }),
            ("reductions", {
                compare([a]) { x in
                    [x[0].sum(dim: 1), x[0].mean(), x[0].max([0]), x[0].logsumexp(dims: [1]), x[0].norm(2),
                     x[0].softmax(dim: -1), x[0].logSoftmax(dim: 0), x[0].cumsum(dim: 1)]
                }
            }),
            ("views and indexing", {
                compare([a, ids]) { x in
                    [x[0].transpose(0, 1).contiguous(), x[0].narrow(1, start: 2, length: 3), x[0].indexSelect(1, x[1]),
                     Tensor.cat([x[0], x[0]], dim: 1), x[0].reshape(2, 12).slice(1, 3, 9)]
                }
            }),
            ("normalisation", {
                compare([a, c]) { x in
                    let w = x[1][0]
                    return [Functional.layerNorm(x[0], normalizedShape: [6], weight: w, bias: w, eps: 1e-5),
                            Functional.rmsNorm(x[0], normalizedShape: [6], weight: w, eps: 1e-6)]
                }
            }),
            ("cross entropy with ignore_index", {
                compare([a, Tensor([1, -100, 4, 2], shape: [4])]) { x in
                    [Functional.crossEntropy(x[0], target: x[1])]
                }
            }),
            ("scaled dot-product attention vs softmax(q kᵀ/√d) v", { sdpaCheck(g) }),
            ("autograd of a small network", { autogradCheck(g) }),
            ("fused AdamW step vs closed form", { adamWCheck(g) }),
            ("AdamW with moments in host memory (streamed) vs on the device", { offloadedAdamWCheck(g) }),
            ("global-norm gradient clipping", { clipCheck() }),
            ("checkpointed backward vs plain backward", { checkpointCheck(g) }),
            ("float16 autocast and loss-scaler kernels", { mixedPrecisionCheck(g) }),
        ]
    }

    private func sdpaCheck(_ g: Generator) -> Double {
        let q = Tensor.randn([2, 3, 5, 4], dtype: .float64, generator: g)
        let k = Tensor.randn([2, 3, 5, 4], dtype: .float64, generator: g)
        let v = Tensor.randn([2, 3, 5, 4], dtype: .float64, generator: g)
        let onDevice = Functional.scaledDotProductAttention(q.to(.float32, device: device), k.to(.float32, device: device),
                                                            v.to(.float32, device: device), isCausal: true)
        let causal = Tensor.ones([5, 5], dtype: .bool).tril()
        let scores = q.matmul(k.transpose(-2, -1)) / 2.0
        let explicit = scores.maskedFill(causal.logicalNot(), Scalar(-Double.infinity)).softmax(dim: -1).matmul(v)
        return Self.difference(onDevice, explicit)
    }

    private func autogradCheck(_ g: Generator) -> Double {
        let x = Tensor.randn([3, 4], dtype: .float64, generator: g)
        let w = Tensor.randn([2, 4], dtype: .float64, generator: g)
        func gradient(_ dtype: DType, _ dev: Device) -> Tensor {
            let wd = w.to(dtype, device: dev).requiresGrad(true)
            let y = Functional.linear(x.to(dtype, device: dev), weight: wd).tanh().sum()
            y.backward()
            return wd.grad ?? Tensor.zeros([1])
        }
        // d/dW sum(tanh(x Wᵀ)) = (1 - tanh²(x Wᵀ))ᵀ x
        let t = x.matmul(w.T).tanh()
        let closed = (1.0 - t * t).T.matmul(x)
        return Swift.max(Self.difference(gradient(.float32, device), closed), Self.difference(gradient(.float64, .cpu), closed))
    }

    private func adamWCheck(_ g: Generator) -> Double {
        let p0 = Tensor.randn([7], dtype: .float64, generator: g)
        let grad = Tensor.randn([7], dtype: .float64, generator: g)
        let (lr, b1, b2, wd, eps) = (0.01, 0.9, 0.95, 0.02, 1e-8)
        let p = p0.to(.float32, device: device)
        let m = Tensor.zeros([7], device: device)
        let v = Tensor.zeros([7], device: device)
        let step = Tensor.zeros([], device: device)
        OptimizerKernels.fusedAdamW(params: [p], grads: [grad.to(.float32, device: device)], expAvgs: [m], expAvgSqs: [v],
                                    steps: [step], lr: lr, beta1: b1, beta2: b2, weightDecay: wd, eps: eps)
        // First step: m̂ = g, v̂ = g², so p₁ = p₀(1 - lr·wd) - lr · g / (|g| + eps).
        let expected = p0 * (1 - lr * wd) - grad / (grad.abs() + eps) * lr
        return Swift.max(Self.difference(p, expected), Self.difference(step, Tensor(scalar: 1.0, dtype: .float64)))
    }

    /// `--offload-optimizer-device cpu`'s update: moments in host memory (pinned on CUDA), streamed in
    /// slices of 64 through the device, two steps; the same as the fused update with the moments on the
    /// device, bit for bit (the worst difference must be 0, not merely below the tolerance).
    private func offloadedAdamWCheck(_ g: Generator) -> Double {
        let p0 = Tensor.randn([300], generator: g).to(device: device)
        let grads = [Tensor.randn([300], generator: g).to(device: device), Tensor.randn([300], generator: g).to(device: device)]
        func run(offload: Bool) -> [Tensor] {
            let p = p0.clone()
            // Both moments views into one slab, as a large model's are.
            let arena = offload ? HostMemoryArena(pinned: device.isCUDA, slabValues: 1024) : nil
            let m = OptimizerKernels.momentBuffer([300], device: device, offloadTo: arena)
            let v = OptimizerKernels.momentBuffer([300], device: device, offloadTo: arena)
            let step = Tensor.zeros([], device: device)
            for grad in grads {
                if offload {
                    OptimizerKernels.fusedAdamWStreamingMoments(params: [p], grads: [grad], expAvgs: [m], expAvgSqs: [v], steps: [step],
                                                                lr: 0.01, beta1: 0.9, beta2: 0.95, weightDecay: 0.02, eps: 1e-8, sliceValues: 64)
                } else {
                    OptimizerKernels.fusedAdamW(params: [p], grads: [grad], expAvgs: [m], expAvgSqs: [v], steps: [step],
                                                lr: 0.01, beta1: 0.9, beta2: 0.95, weightDecay: 0.02, eps: 1e-8)
                }
            }
            return [p, m, v, step]
        }
        let worst = zip(run(offload: true), run(offload: false)).map { Self.difference($0, $1) }.max() ?? .nan
        return worst == 0 ? 0 : .nan  // bitwise or failed
    }

    /// Two recomputed segments (the backward pass calls back into Swift, on CUDA from torch's device
    /// thread) give the gradients of the plain graph.
    private func checkpointCheck(_ g: Generator) -> Double {
        let x = Tensor.randn([3, 4], dtype: .float64, generator: g).to(.float32, device: device)
        let w = Tensor.randn([4, 4], dtype: .float64, generator: g).to(.float32, device: device)
        func gradients(_ checkpointed: Bool) -> [Tensor] {
            let wd = w.clone().requiresGrad(true), xd = x.clone().requiresGrad(true)
            var h = xd
            for _ in 0..<2 {
                h = checkpointed ? Checkpoint.run([h]) { [Functional.linear($0[0], weight: wd).tanh()] }[0]
                    : Functional.linear(h, weight: wd).tanh()
            }
            h.sum().backward()
            return [wd.grad ?? Tensor.zeros([1]), xd.grad ?? Tensor.zeros([1])]
        }
        let plain = gradients(false), recomputed = gradients(true)
        return zip(recomputed, plain).map { Self.difference($0, $1) }.max() ?? .infinity
    }

    /// Under float16 autocast a linear layer computes in float16 exactly as with float16 inputs; the
    /// scaler's unscale spots an inf and its update backs off.
    private func mixedPrecisionCheck(_ g: Generator) -> Double {
        let x = Tensor.randn([3, 4], dtype: .float64, generator: g).to(.float32, device: device)
        let w = Tensor.randn([5, 4], dtype: .float64, generator: g).to(.float32, device: device)
        let cast = Autocast.run(device: device, dtype: .float16) { Functional.linear(x, weight: w) }
        guard cast.dtype == .float16, !Autocast.isEnabled(device: device) else { return .infinity }
        let explicit = Functional.linear(x.to(.float16), weight: w.to(.float16))
        let grads = [Tensor([2.0, Float.infinity]).to(device: device)]
        let foundInf = Tensor.zeros([1], device: device)
        let scale = Tensor.full([], Scalar(1024.0), device: device), tracker = Tensor.zeros([], dtype: .int32, device: device)
        OptimizerKernels.unscaleGradients(grads, foundInf: foundInf, inverseScale: Tensor([0.5] as [Float]).to(device: device))
        OptimizerKernels.updateScale(scale, growthTracker: tracker, foundInf: foundInf, growth: 2, backoff: 0.5, interval: 2000)
        return [Self.difference(cast, explicit), Self.difference(grads[0].narrow(0, start: 0, length: 1), Tensor([1.0])),
                Self.difference(foundInf, Tensor([1.0])), Self.difference(scale, Tensor(scalar: 512.0, dtype: .float64))].max() ?? .infinity
    }

    private func clipCheck() -> Double {
        let g1 = Tensor([3.0, 4.0] as [Float]).to(device: device)
        let g2 = Tensor([12.0] as [Float]).to(device: device)
        let norm = OptimizerKernels.clipGradNorm([g1, g2], maxNorm: 1.0)
        // ‖(3, 4, 12)‖ = 13; every gradient is scaled by 1 / (13 + 1e-6).
        let scale = 1.0 / (13.0 + 1e-6)
        let expected = Tensor([3 * scale, 4 * scale, 12 * scale])
        return Swift.max(Swift.abs(norm - 13.0), Self.difference(Tensor.cat([g1, g2]), expected))
    }
}
