import Foundation
import Testing
@testable import Torch

@Suite struct MathTests {
    let x: [Double] = [-2, -0.5, 0.25, 1, 3]
    var t: Tensor { Tensor(x) }

    @Test func arithmeticAndPromotion() {
        let a = Tensor([1.0, 2, 3]), b = Tensor([4.0, 5, 6])
        expectValues(a + b, [5, 7, 9])
        expectValues(a - b, [-3, -3, -3])
        expectValues(a * b, [4, 10, 18])
        expectValues(a / b, [0.25, 0.4, 0.5])
        expectValues(a.pow(2), [1, 4, 9])
        expectValues(b.pow(a), [4, 25, 216])
        expectValues(-a, [-1, -2, -3])
        expectValues(1 - a, [0, -1, -2])
        expectValues(2 / a, [2, 1, 2.0 / 3])
        expectValues(a.maximum(Tensor([2.0, 2, 2])), [2, 2, 3])
        expectValues(a.minimum(Tensor([2.0, 2, 2])), [1, 2, 2])
        expectValues(Tensor([5.0, -5]).remainder(3), [2, 1])  // Python's sign convention
        // Broadcasting [2,1] with [3].
        expectValues(Tensor([10.0, 20], shape: [2, 1]) + a, [11, 12, 13, 21, 22, 23])
        // Type promotion as in Python: int tensor + int stays int, int * float becomes float32.
        let i = Tensor([1, 2, 3])
        #expect((i + 1).dtype == .int64)
        #expect((i * 0.5).dtype == .float32)
        expectValues(i * 0.5, [0.5, 1, 1.5])
        #expect((Tensor([1.0] as [Float]) * 2.0).dtype == .float32)
        #expect((i / 2).dtype == .float32)  // true division
    }

    @Test func inPlace() {
        let a = Tensor([1.0, 2])
        a += Tensor([1.0, 1])
        a *= 3
        a -= Tensor([1.0, 1])
        a /= Tensor([5.0, 2])
        expectValues(a, [1, 4])
        a.addScaled_(Tensor([1.0, 1]), alpha: -0.5)
        expectValues(a, [0.5, 3.5])
        a += 1
        expectValues(a, [1.5, 4.5])
    }

    @Test func unaryFunctionsMatchLibm() {
        expectValues(t.exp(), x.map { Foundation.exp($0) })
        expectValues(t.abs().log(), x.map { Foundation.log(Swift.abs($0)) })
        expectValues(t.abs().log1p(), x.map { Foundation.log1p(Swift.abs($0)) })
        expectValues(t.expm1(), x.map { Foundation.expm1($0) })
        expectValues(t.abs().sqrt(), x.map { Swift.abs($0).squareRoot() })
        expectValues(t.abs().rsqrt(), x.map { 1 / Swift.abs($0).squareRoot() })
        expectValues(t.abs(), x.map { Swift.abs($0) })
        expectValues(t.square(), x.map { $0 * $0 })
        expectValues(t.tanh(), x.map { Foundation.tanh($0) })
        expectValues(t.sigmoid(), x.map { 1 / (1 + Foundation.exp(-$0)) })
        expectValues(t.logSigmoid(), x.map { -Foundation.log1p(Foundation.exp(-$0)) })
        expectValues(t.relu(), x.map { Swift.max(0, $0) })
        expectValues(t.sin(), x.map { Foundation.sin($0) })
        expectValues(t.cos(), x.map { Foundation.cos($0) })
        expectValues(t.floor(), [-2, -1, 0, 1, 3])
        expectValues(t.ceil(), [-2, -0, 1, 1, 3])
        expectValues(Tensor([0.5, 1.5, 2.5, -0.5]).round(), [0, 2, 2, -0])  // half to even
        expectValues(t.sign(), [-1, -1, 1, 1, 1])
        expectValues(t.reciprocal(), x.map { 1 / $0 })
        expectValues(t.clamp(min: -1, max: 1), [-1, -0.5, 0.25, 1, 1])
        expectValues(t.clamp(min: 0), [0, 0, 0.25, 1, 3])
        expectValues(t.clamp(max: 0), [-2, -0.5, 0, 0, 0])
        // log σ stays finite far in the tail where log(σ(x)) underflows.
        expectValues(Tensor([-800.0]).logSigmoid(), [-800])
    }

    @Test func comparisonsAndLogic() {
        let a = Tensor([1.0, 2, 3]), b = Tensor([3.0, 2, 1])
        #expect(a.eq(b).toArray(Bool.self) == [false, true, false])
        #expect(a.ne(b).toArray(Bool.self) == [true, false, true])
        #expect(a.lt(b).toArray(Bool.self) == [true, false, false])
        #expect(a.le(b).toArray(Bool.self) == [true, true, false])
        #expect(a.gt(b).toArray(Bool.self) == [false, false, true])
        #expect(a.ge(2).toArray(Bool.self) == [false, true, true])
        #expect(a.eq(2).logicalOr(a.eq(3)).toArray(Bool.self) == [false, true, true])
        #expect(a.ge(2).logicalAnd(a.le(2)).toArray(Bool.self) == [false, true, false])
        #expect(a.ge(2).logicalNot().toArray(Bool.self) == [true, false, false])
        let nan = Tensor([Double.nan, .infinity, 1])
        #expect(nan.isNaN().toArray(Bool.self) == [true, false, false])
        #expect(nan.isInf().toArray(Bool.self) == [false, true, false])
        #expect(nan.isFinite().toArray(Bool.self) == [false, false, true])
        #expect(a.allClose(a + 1e-9) && !a.allClose(b))
    }

    @Test func linearAlgebra() {
        let a = iota([2, 3]), b = iota([3, 2])
        // [[0,1,2],[3,4,5]] · [[0,1],[2,3],[4,5]]
        expectValues(a.matmul(b), [10, 13, 28, 40])
        expectValues(Tensor.stack([a, a]).bmm(Tensor.stack([b, b * 2.0])), [10, 13, 28, 40, 20, 26, 56, 80])
        // linear: x Wᵀ + b with W [2,3].
        expectValues(Functional.linear(a, weight: b.T, bias: Tensor([1.0, -1])), [11, 12, 29, 39])
        expectValues(Functional.linear(a, weight: b.T), [10, 13, 28, 40])
    }

    @Test func reductions() {
        let m = Tensor([3.0, -1, 2, 5, 0, 4], shape: [2, 3])
        expectValues(m.sum(), [13])
        expectValues(m.sum(dim: 0), [8, -1, 6])
        expectShape(m.sum(dim: 1, keepDim: true), [2, 1])
        expectValues(m.mean(dim: 1), [4.0 / 3, 3])
        expectValues(m.max(), [5])
        expectValues(m.min([1]), [-1, 0])
        let (values, indices) = m.max(dim: 1)
        expectValues(values, [3, 5])
        #expect(indices.toArray(Int.self) == [0, 0])
        #expect(m.min(dim: 0).indices.toArray(Int.self) == [0, 0, 0])
        #expect(m.argmax(dim: 1).toArray(Int.self) == [0, 0])
        let top = Tensor([1.0, 5, 3, 4]).topk(2)
        expectValues(top.values, [5, 4])
        #expect(top.indices.toArray(Int.self) == [1, 3])
        #expect(Tensor([1.0, 5, 3, 4]).topk(1, largest: false).indices.toArray(Int.self) == [0])
        expectValues(Tensor([3.0, 1, 2]).sort().values, [1, 2, 3])
        expectValues(Tensor([1.0, 2, 3, 4]).cumsum(dim: 0), [1, 3, 6, 10])
        expectValues(m.prod(), [0])
        #expect(m.gt(4).any().item().boolValue && !m.gt(4).all().item().boolValue)
        let row = [1.0, 2, 3]
        let z = row.map { Foundation.exp($0) }.reduce(0, +)
        expectValues(Tensor(row).softmax(dim: 0), row.map { Foundation.exp($0) / z })
        expectValues(Tensor(row).logSoftmax(dim: 0), row.map { $0 - Foundation.log(z) })
        expectValues(Tensor(row).logsumexp(dims: [0]), [Foundation.log(z)])
        expectValues(Tensor([3.0, -4]).norm(), [5])
        expectValues(Tensor([3.0, -4]).norm(1), [7])
        expectValues(Tensor([3.0, -4, 0, 1], shape: [2, 2]).norm(2, dims: [1]), [5, 1])
    }

    @Test func multinomialIsSeededAndRespectsZeros() {
        let probs = Tensor([0.0, 0.2, 0.8, 0.0])
        let a = probs.multinomial(1, generator: Generator(seed: 7)).toArray(Int.self)
        let b = probs.multinomial(1, generator: Generator(seed: 7)).toArray(Int.self)
        #expect(a == b && (a[0] == 1 || a[0] == 2))
        let all = probs.multinomial(2, generator: Generator(seed: 1)).toArray(Int.self).sorted()
        #expect(all == [1, 2])
    }
}
