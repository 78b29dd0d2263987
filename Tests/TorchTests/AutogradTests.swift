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
