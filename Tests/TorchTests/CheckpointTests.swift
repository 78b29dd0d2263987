import Foundation
import Testing
@testable import Torch

/// Activation checkpointing (reentrant, as torch.utils.checkpoint) and autocast regions.
@Suite struct CheckpointTests {
    /// Counts how often a segment runs (forward and recomputation).
    final class Counter: @unchecked Sendable { var calls = 0 }

    /// L = Σ (x·w)²: dL/dw = 2x²w and dL/dx = 2xw², hand-derived; the checkpointed segment gives the
    /// same gradients, runs twice (forward, then recomputation in backward) and keeps no graph inside.
    @Test func gradientsEqualTheUncheckpointedOnes() {
        let w = Tensor([0.5, -1.5, 2.0], shape: [3]).to(.float64).requiresGrad(true)
        let x = Tensor([1.0, 2, -3]).requiresGrad(true)
        let counter = Counter()
        let out = Checkpoint.run([x * 1.0]) { inputs in
            counter.calls += 1
            return [(inputs[0] * w).square()]
        }
        #expect(counter.calls == 1 && out.count == 1 && out[0].requiresGrad)
        out[0].sum().backward()
        #expect(counter.calls == 2)
        // 2x²w = [1, -12, 36];  2xw² = [0.5, 9, -24]
        expectValues(w.grad ?? Tensor([0.0]), [1, -12, 36], tolerance: 0)
        expectValues(x.grad ?? Tensor([0.0]), [0.5, 9, -24], tolerance: 0)
    }

    /// Reentrant checkpointing back-propagates each recomputed segment on its own, so a parameter used
    /// in two segments has its gradient accumulated — and its post-accumulate hook run — twice in one
    /// backward pass, as in PyTorch (what ZeRO-2's in-backward reduction has to allow for).
    @Test func eachRecomputedSegmentAccumulatesOnItsOwn() {
        let w = Tensor([3.0]).requiresGrad(true)
        let x = Tensor([1.0]).requiresGrad(true)
        let counter = Counter()
        w.onGradientAccumulated { counter.calls += 1 }
        let first = Checkpoint.run([x * 1.0]) { [$0[0] * w] }
        let second = Checkpoint.run([first[0]]) { [$0[0] * w] }
        second[0].sum().backward()  // d(x·w²)/dw = 2xw = 6
        #expect(counter.calls == 2)
        expectValues(w.grad ?? Tensor([0.0]), [6], tolerance: 0)
        w.removeGradientAccumulatedHook()
    }

    /// Two chained segments with two outputs each, against the same computation without checkpointing.
    @Test func chainedSegmentsWithSeveralOutputs() {
        let g = Generator(seed: 7)
        let w1 = Tensor.randn([4, 4], dtype: .float64, generator: g).requiresGrad(true)
        let w2 = Tensor.randn([4, 4], dtype: .float64, generator: g).requiresGrad(true)
        let input = Tensor.randn([3, 4], dtype: .float64, generator: g).requiresGrad(true)
        func block(_ x: Tensor, _ y: Tensor, _ w: Tensor) -> [Tensor] {
            let h = Functional.linear(x, weight: w).tanh()
            return [h + y, (h * y).sigmoid()]
        }
        func loss(checkpointed: Bool) -> [[Double]] {
            for t in [w1, w2, input] { t.zeroGrad() }
            var state = [input * 2.0, input.square()]
            for w in [w1, w2] {
                state = checkpointed ? Checkpoint.run(state) { block($0[0], $0[1], w) } : block(state[0], state[1], w)
            }
            (state[0].sum() + (state[1] * 3.0).sum()).backward()
            return [w1, w2, input].map { $0.grad?.toArray(Double.self) ?? [] }
        }
        let plain = loss(checkpointed: false), recomputed = loss(checkpointed: true)
        #expect(plain.allSatisfy { $0.count > 0 })
        for (a, b) in zip(plain, recomputed) {
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-12, "max difference \(worst)")
        }
    }

    /// Without gradient recording, or when no input needs a gradient, the segment just runs once —
    /// and a captured parameter still gets its gradient (PyTorch's reentrant variant would drop it).
    @Test func runsDirectlyWithoutAGraph() {
        let w = Tensor([3.0]).requiresGrad(true)
        let counter = Counter()
        let noGrad = Autograd.noGrad { Checkpoint.run([Tensor([2.0])]) { counter.calls += 1; return [$0[0] * w] } }
        #expect(counter.calls == 1 && !noGrad[0].requiresGrad)
        let constantInput = Checkpoint.run([Tensor([2.0])]) { counter.calls += 1; return [$0[0] * w] }
        constantInput[0].sum().backward()
        #expect(counter.calls == 2)
        expectValues(w.grad ?? Tensor([0.0]), [2])
    }

    /// Autocast to float16 on the CPU: linear layers compute in float16, elementwise ops keep their
    /// inputs' dtype, and the setting ends with the region. A checkpointed segment recomputes under
    /// the autocast setting of its forward pass, so its gradients equal the plain autocast ones.
    @Test func autocastRegionsAndRecomputation() {
        let g = Generator(seed: 3)
        let w = Tensor.randn([5, 4], generator: g).requiresGrad(true)
        let x = Tensor.randn([2, 4], generator: g).requiresGrad(true)
        #expect(!Autocast.isEnabled(device: .cpu))
        let (inside, enabled) = Autocast.run(device: .cpu, dtype: .float16) {
            (Functional.linear(x, weight: w), Autocast.isEnabled(device: .cpu))
        }
        #expect(enabled && !Autocast.isEnabled(device: .cpu))
        #expect(inside.dtype == .float16 && Functional.linear(x, weight: w).dtype == .float32 && (x * 2.0).dtype == .float32)
        // float16 product: equal to the float32 one within float16 rounding.
        let exact = Functional.linear(x, weight: w).detach()
        #expect((inside.to(.float32) - exact).abs().max().item().doubleValue < 1e-2 * max(1, exact.abs().max().item().doubleValue))

        func grads(checkpointed: Bool) -> [Float] {
            w.zeroGrad()
            let y = Autocast.run(device: .cpu, dtype: .float16) {
                checkpointed ? Checkpoint.run([x * 1.0]) { [Functional.linear($0[0], weight: w).tanh()] }[0]
                    : Functional.linear(x * 1.0, weight: w).tanh()
            }
            #expect(y.dtype == .float16)
            y.to(.float32).sum().backward()  // outside the region, as the trainer does
            return w.grad?.toArray(Float.self) ?? []
        }
        let plain = grads(checkpointed: false)
        #expect(plain.count == 20 && plain == grads(checkpointed: true))
    }

    /// The weight casts autocast caches inside a region are dropped when it ends: a changed weight
    /// is seen by the next region.
    @Test func autocastCacheDoesNotOutliveTheRegion() {
        let w = Tensor([1.0, 2.0], shape: [1, 2]).to(.float32).requiresGrad(true)
        let x = Tensor([1.0, 1.0], shape: [1, 2]).to(.float32)
        let first = Autocast.run(device: .cpu, dtype: .float16) { Functional.linear(x, weight: w) }
        Autograd.noGrad { w *= Scalar(2.0) }
        let second = Autocast.run(device: .cpu, dtype: .float16) { Functional.linear(x, weight: w) }
        expectValues(first, [3])
        expectValues(second, [6])
    }

    /// The same across threads. torch's weight-cast cache is process-wide (each thread counts only
    /// its own nesting): while another thread's region holds a cast of `w`, a region here used that
    /// stale cast after `w` changed (3, not 6) until `Autocast.run` admitted one thread at a time.
    @Test func anotherThreadsRegionDoesNotLendItsCasts() {
        let w = Tensor([1.0, 2.0], shape: [1, 2]).to(.float32).requiresGrad(true)
        let x = Tensor([1.0, 1.0], shape: [1, 2]).to(.float32)
        let cached = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        let other = Thread {
            let first = Autocast.run(device: .cpu, dtype: .float16) { () -> Tensor in
                let y = Functional.linear(x, weight: w)
                cached.signal()
                Thread.sleep(forTimeInterval: 0.3)
                return y
            }
            expectValues(first, [3])
            finished.signal()
        }
        other.start()
        cached.wait()
        Autograd.noGrad { w *= Scalar(2.0) }
        let second = Autocast.run(device: .cpu, dtype: .float16) { Functional.linear(x, weight: w) }
        finished.wait()
        expectValues(second, [6])
    }

    /// Inside a region, two uses of a weight share one float16 cast, so their gradients meet in
    /// float16: 1 + 2⁻¹¹ rounds to 1 there (a tie, to even), where two separate casts would give
    /// 1 + 2⁻¹¹ in float32. A checkpointed segment recomputed on another thread meanwhile (backward,
    /// outside any region) must not clear that shared cast: it did while the recomputation entered
    /// autocast as `torch.autocast` does, whose exit empties torch's process-wide cache.
    @Test func aRecomputationLeavesAnotherThreadsCastsAlone() {
        let v = Tensor([0.5], shape: [1, 1]).to(.float32).requiresGrad(true)
        let recorded = Autocast.run(device: .cpu, dtype: .float16) {
            Checkpoint.run([Tensor([1.0], shape: [1, 1]).to(.float32).requiresGrad(true)]) { [Functional.linear($0[0], weight: v)] }[0]
        }
        let tie = pow(2.0, -11.0)
        func weightGradient(recomputingMeanwhile: Bool) -> [Float] {
            let w = Tensor([1.0], shape: [1, 1]).to(.float32).requiresGrad(true)
            let x = Tensor([1.0], shape: [1, 1]).to(.float32)
            let (first, second) = Autocast.run(device: .cpu, dtype: .float16) { () -> (Tensor, Tensor) in
                let first = Functional.linear(x, weight: w)
                if recomputingMeanwhile {
                    let done = DispatchSemaphore(value: 0)
                    Thread { recorded.to(.float32).sum().backward(); done.signal() }.start()
                    done.wait()
                }
                return (first, Functional.linear(x, weight: w))
            }
            (first.to(.float32).sum() + second.to(.float32).sum() * tie).backward()
            return w.grad?.toArray(Float.self) ?? []
        }
        #expect(weightGradient(recomputingMeanwhile: false) == [1])
        #expect(weightGradient(recomputingMeanwhile: true) == [1])
        #expect(v.grad?.toArray(Float.self) == [1], "the recomputed segment's own gradient")
    }

    /// GradScaler's kernels, against hand-derived values.
    @Test func lossScalerKernels() {
        let grads = [Tensor([2.0, -4.0]).to(.float32), Tensor([8.0]).to(.float32)]
        let foundInf = Tensor.zeros([1])
        OptimizerKernels.unscaleGradients(grads, foundInf: foundInf, inverseScale: Tensor([0.5]).to(.float32))
        expectValues(grads[0], [1, -2], tolerance: 0)
        expectValues(grads[1], [4], tolerance: 0)
        expectValues(foundInf, [0], tolerance: 0)
        OptimizerKernels.unscaleGradients([Tensor([1.0, Double.infinity]).to(.float32)], foundInf: foundInf,
                                          inverseScale: Tensor([0.5]).to(.float32))
        expectValues(foundInf, [1], tolerance: 0)

        let scale = Tensor.full([], Scalar(8.0), dtype: .float32), tracker = Tensor.full([], Scalar(0), dtype: .int32)
        let clean = Tensor.zeros([1])
        OptimizerKernels.updateScale(scale, growthTracker: tracker, foundInf: clean, growth: 2, backoff: 0.5, interval: 2)
        #expect(scale.item().doubleValue == 8 && tracker.item().intValue == 1)
        OptimizerKernels.updateScale(scale, growthTracker: tracker, foundInf: clean, growth: 2, backoff: 0.5, interval: 2)
        #expect(scale.item().doubleValue == 16 && tracker.item().intValue == 0)
        OptimizerKernels.updateScale(scale, growthTracker: tracker, foundInf: clean, growth: 2, backoff: 0.5, interval: 2)
        OptimizerKernels.updateScale(scale, growthTracker: tracker, foundInf: foundInf, growth: 2, backoff: 0.5, interval: 2)
        #expect(scale.item().doubleValue == 8 && tracker.item().intValue == 0)
    }
}
