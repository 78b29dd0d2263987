import Testing
@testable import Torch

@Suite struct AutogradTests {
    @Test func gradientsAccumulateAndReset() {
        let w = Tensor([1.0, -2, 3]).requiresGrad(true)
        #expect(w.requiresGrad && w.grad == nil)
        let y = (w * w * 2.0).sum()  // dy/dw = 4w
        y.backward(retainGraph: true)
        expectValues(w.grad ?? Tensor([0.0]), [4, -8, 12])
        y.backward()  // the retained graph runs again and accumulates
        expectValues(w.grad ?? Tensor([0.0]), [8, -16, 24])
        w.zeroGrad()
        #expect(w.grad == nil)
        w.grad = Tensor([1.0, 1, 1])
        expectValues(w.grad ?? Tensor([0.0]), [1, 1, 1])
    }

    /// The post-accumulate hook runs once per backward pass that reaches the leaf, after `.grad` holds
    /// the summed gradient of all its uses (here 2 + 3 = 5, hand-derived), and may take that `.grad`.
    @Test func theAccumulationHookSeesTheSummedGradientOncePerPass() {
        final class Seen: @unchecked Sendable { var grads: [[Double]] = [] }
        let w = Tensor([1.0, -1]).requiresGrad(true)
        let seen = Seen()
        #expect(!(w * 2.0).onGradientAccumulated {})  // not a leaf
        #expect(!Tensor([1.0]).onGradientAccumulated {})  // no grad
        #expect(w.onGradientAccumulated {
            seen.grads.append(w.grad?.toArray(Double.self) ?? [])
            w.zeroGrad()
        })
        (w * 2.0 + w * 3.0).sum().backward()
        #expect(seen.grads == [[5, 5]])
        #expect(w.grad == nil)
        (w * w).sum().backward()  // 2w
        #expect(seen.grads == [[5, 5], [2, -2]])
        w.removeGradientAccumulatedHook()
        (w * 4.0).sum().backward()
        #expect(seen.grads.count == 2)
        expectValues(w.grad ?? Tensor([0.0]), [4, 4])
    }

    @Test func explicitOutputGradient() {
        let x = Tensor([1.0, 2]).requiresGrad(true)
        (x * 3.0).backward(Tensor([1.0, 10]))
        expectValues(x.grad ?? Tensor([0.0]), [3, 30])
    }

    @Test func detachAndNoGradCutTheGraph() {
        let w = Tensor([2.0]).requiresGrad(true)
        #expect(!(w * 2.0).detach().requiresGrad)
        #expect(Autograd.isEnabled)
        let inside = Autograd.noGrad { (w * 2.0, Autograd.isEnabled) }
        #expect(!inside.0.requiresGrad && !inside.1)
        #expect(Autograd.isEnabled)
        let nested = Autograd.noGrad { Autograd.enableGrad { w * 2.0 } }
        #expect(nested.requiresGrad)
    }

    @Test func functionalGradLeavesDotGradAlone() {
        let x = Tensor([1.0, 2, 3]).requiresGrad(true)
        let unused = Tensor([5.0]).requiresGrad(true)
        let y = (x * x).sum()
        let grads = Autograd.grad(of: [y], wrt: [x, unused])
        expectValues(grads[0] ?? Tensor([0.0]), [2, 4, 6])
        #expect(grads[1] == nil)
        #expect(x.grad == nil)
    }
}
