import Foundation
import Testing
@testable import Torch

@Suite struct OptimizerKernelTests {
    /// Three AdamW steps with changing gradients against the textbook update in Swift doubles
    /// (Loshchilov & Hutter's decoupled decay, as torch.optim.AdamW).
    @Test func fusedAdamWMatchesClosedForm() {
        let (lr, b1, b2, wd, eps) = (0.1, 0.9, 0.95, 0.02, 1e-8)
        var p: [Double] = [0.5, -1.5, 2.0, 0.0]
        let grads: [[Double]] = [[0.1, -0.2, 0.3, 0.0], [1.0, 0.5, -0.25, 2.0], [-0.3, 0.0, 0.7, -1.0]]
        let param = Tensor(p)
        let m = Tensor.zeros([4], dtype: .float64), v = Tensor.zeros([4], dtype: .float64)
        let step = Tensor.zeros([], dtype: .float32)
        var mm = [Double](repeating: 0, count: 4), vv = mm
        for (k, g) in grads.enumerated() {
            OptimizerKernels.fusedAdamW(params: [param], grads: [Tensor(g)], expAvgs: [m], expAvgSqs: [v], steps: [step],
                                        lr: lr, beta1: b1, beta2: b2, weightDecay: wd, eps: eps)
            let t = Double(k + 1)
            for i in p.indices {
                p[i] *= 1 - lr * wd
                mm[i] = b1 * mm[i] + (1 - b1) * g[i]
                vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i]
                let denom = (vv[i] / (1 - pow(b2, t))).squareRoot() + eps
                p[i] -= lr / (1 - pow(b1, t)) * mm[i] / denom
            }
            expectValues(param, p, tolerance: 1e-12)
            expectValues(m, mm, tolerance: 1e-12)
            expectValues(v, vv, tolerance: 1e-12)
            expectValues(step, [t])
        }
    }

    @Test func fusedAdamWHandlesMixedDTypes() {
        let a = Tensor([1.0] as [Float]), b = Tensor([1.0])
        let states = [a, b].map { ($0, Tensor.zeros([1], dtype: $0.dtype), Tensor.zeros([1], dtype: $0.dtype), Tensor.zeros([])) }
        OptimizerKernels.fusedAdamW(params: states.map(\.0), grads: [Tensor([1.0] as [Float]), Tensor([1.0])],
                                    expAvgs: states.map(\.1), expAvgSqs: states.map(\.2), steps: states.map(\.3),
                                    lr: 0.5, beta1: 0.9, beta2: 0.999, weightDecay: 0, eps: 0)
        // First step moves each parameter by exactly lr · sign(g).
        expectValues(a, [0.5])
        expectValues(b, [0.5])
    }

    /// The offloaded step (moments streamed through the device in slices) is bitwise the fused step:
    /// the kernel is elementwise and a slice of a multiple of 64 values never moves where its vectorised
    /// part ends. Slices of 64 over tensors of 703 (10 slices + a tail of 63), 1000, 5 and 0 values, a
    /// transposed (non-contiguous) one, which is updated whole, and a float64 one (its moments outside
    /// the float32 arena, staged in float64); three steps of changing gradients.
    @Test func streamingTheMomentsGivesTheFusedStepBitwise() {
        let g = Generator(seed: 7)
        // The last is a 19×37 tensor seen transposed: 37×19, not contiguous (clone keeps its strides).
        let start = [[37, 19], [1000], [5], [0], [19, 37]].enumerated().map { i, shape in
            i == 4 ? Tensor.randn(shape, generator: g).transpose(0, 1) : Tensor.randn(shape, generator: g)
        } + [Tensor.randn([50], dtype: .float64, generator: g)]
        let shapes = start.map(\.shape)
        let (direct, streamedParams) = (start.map { $0.clone() }, start.map { $0.clone() })
        #expect(!streamedParams[4].isContiguous && streamedParams[0].isContiguous)
        func state(_ params: [Tensor], offload: Bool) -> (m: [Tensor], v: [Tensor], s: [Tensor]) {
            // Offloaded: views into 1024-value slabs of one arena, as a large model's moments are.
            let arena = offload ? HostMemoryArena(pinned: false, slabValues: 1024) : nil
            return (params.map { OptimizerKernels.momentBuffer($0.shape, dtype: $0.dtype, device: .cpu, offloadTo: arena) },
                    params.map { OptimizerKernels.momentBuffer($0.shape, dtype: $0.dtype, device: .cpu, offloadTo: arena) },
                    params.map { _ in Tensor.zeros([]) })
        }
        let (a, b) = (state(direct, offload: false), state(streamedParams, offload: true))
        for _ in 0..<3 {
            let gradsSeen = start.map { Tensor.randn($0.shape, dtype: $0.dtype, generator: g) }
            OptimizerKernels.fusedAdamW(params: direct, grads: gradsSeen, expAvgs: a.m, expAvgSqs: a.v, steps: a.s,
                                        lr: 0.01, beta1: 0.9, beta2: 0.95, weightDecay: 0.1, eps: 1e-8)
            OptimizerKernels.fusedAdamWStreamingMoments(params: streamedParams, grads: gradsSeen, expAvgs: b.m, expAvgSqs: b.v,
                                                        steps: b.s, lr: 0.01, beta1: 0.9, beta2: 0.95, weightDecay: 0.1,
                                                        eps: 1e-8, sliceValues: 64)
        }
        for i in shapes.indices {
            for (x, y, what) in [(direct[i], streamedParams[i], "parameter"), (a.m[i], b.m[i], "exp_avg"), (a.v[i], b.v[i], "exp_avg_sq")] {
                let diff = x.count == 0 ? 0 : (x - y).abs().max().item().doubleValue
                #expect(diff == 0, "tensor \(i) \(what): differs by \(diff)")
            }
            #expect(b.s[i].item().doubleValue == 3)
            #expect(direct[i].count == 0 || (direct[i] - start[i]).abs().max().item().doubleValue > 0, "tensor \(i) moved")
        }
    }

    /// The arena places tensors first-fit in slabs of its size (a power of two), a larger tensor in a
    /// slab of the next power of two above it; every tensor is zeros of its shape and a view of its
    /// own values (hand-worked: slabs of 16 values; requests of 10, 5, 3, 20 and 1 values).
    @Test func hostMemoryArenaPacksFirstFit() {
        let arena = HostMemoryArena(pinned: false, slabValues: 16)
        let shapes = [[2, 5], [5], [3], [4, 5], [1]]
        let tensors = shapes.map { arena.zeros($0) }
        // 10 → slab A [0,10); 5 → A [10,15); 3 → new slab B [0,3); 20 → slab C of 32 [0,20); 1 → A [15,16).
        #expect(arena.slabs.map(\.tensor.count) == [16, 16, 32])
        #expect(arena.slabs.map(\.used) == [16, 3, 20])
        #expect(arena.reservedValues == 64 && arena.usedValues == 39)
        #expect(tensors.map(\.shape) == shapes)
        for (i, t) in tensors.enumerated() {
            #expect(t.abs().sum().item().doubleValue == 0)
            t.fill_(Scalar(Double(i + 1)))
        }
        // Each wrote only its own values: slab A holds 1×10, 2×5, 5×1.
        #expect(arena.slabs[0].tensor.toArray(Float.self) == Array(repeating: 1, count: 10) + Array(repeating: 2, count: 5) + [5])
        #expect(arena.slabs[1].tensor.toArray(Float.self).prefix(3) == [3, 3, 3])
        #expect(arena.zeros([0]).count == 0 && arena.slabs.count == 3)
        // An optimiser's arena: slabs of 2^28 values, or the power of two that holds a smaller total.
        #expect(OptimizerKernels.momentArena(for: .cpu, values: 1000).slabValues == 1024)
        #expect(OptimizerKernels.momentArena(for: .cpu, values: 1024).slabValues == 1024)
        #expect(OptimizerKernels.momentArena(for: .cpu, values: 14_000_000_000).slabValues == 1 << 28)
        #expect(!OptimizerKernels.momentArena(for: .cpu, values: 1).pinned)
    }

    @Test func clippingScalesOnlyAboveTheLimit() {
        let g1 = Tensor([3.0, 4.0]), g2 = Tensor([12.0])
        let norm = OptimizerKernels.clipGradNorm([g1, g2], maxNorm: 1)
        #expect(abs(norm - 13) < 1e-12)
        let s = 1 / (13 + 1e-6)
        expectValues(g1, [3 * s, 4 * s], tolerance: 1e-14)
        expectValues(g2, [12 * s], tolerance: 1e-14)

        let h = Tensor([0.3, 0.4])
        #expect(abs(OptimizerKernels.clipGradNorm([h], maxNorm: 1) - 0.5) < 1e-12)
        expectValues(h, [0.3, 0.4], tolerance: 0)  // below the limit: untouched
        #expect(OptimizerKernels.clipGradNorm([], maxNorm: 1) == 0)
    }
}
