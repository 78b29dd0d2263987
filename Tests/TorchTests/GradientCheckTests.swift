import Testing
@testable import Torch

/// Finite-difference checks in float64: the analytic gradient of Σ w ⊙ f(inputs) (w random, fixed)
/// against central differences, element by element.
@Suite struct GradientCheckTests {
    func gradcheck(_ inputs: [Tensor], differentiable: Set<Int>? = nil, _ f: ([Tensor]) -> Tensor,
                   sourceLocation: SourceLocation = #_sourceLocation) {
        let which = differentiable ?? Set(inputs.indices)
        let weights = Tensor.randn(f(inputs).shape, dtype: .float64, generator: Generator(seed: 11))
        func loss(_ xs: [Tensor]) -> Double { (f(xs) * weights).sum().item().doubleValue }

        let leaves = inputs.enumerated().map { i, t in which.contains(i) ? t.detach().clone().requiresGrad(true) : t }
        (f(leaves) * weights).sum().backward()

        let h = 1e-6
        for i in which.sorted() {
            guard let analytic = leaves[i].grad else {
                Issue.record("input \(i) got no gradient", sourceLocation: sourceLocation)
                continue
            }
            let a: [Double] = analytic.toArray()
            let base: [Double] = inputs[i].toArray()
            for j in base.indices {
                var plus = base, minus = base
                plus[j] += h
                minus[j] -= h
                var xs = inputs
                xs[i] = Tensor(plus, shape: inputs[i].shape)
                let lp = loss(xs)
                xs[i] = Tensor(minus, shape: inputs[i].shape)
                let lm = loss(xs)
                let numeric = (lp - lm) / (2 * h)
                let ok = abs(numeric - a[j]) <= 1e-5 + 1e-4 * abs(numeric)
                #expect(ok, "input \(i) element \(j): analytic \(a[j]) vs numeric \(numeric)", sourceLocation: sourceLocation)
            }
        }
    }

    let g = Generator(seed: 5)
    func randn(_ shape: [Int]) -> Tensor { Tensor.randn(shape, dtype: .float64, generator: g) }

    @Test func linear() { gradcheck([randn([3, 4]), randn([2, 4]), randn([2])]) { Functional.linear($0[0], weight: $0[1], bias: $0[2]) } }
    @Test func layerNorm() {
        gradcheck([randn([2, 5]), randn([5]), randn([5])]) {
            Functional.layerNorm($0[0], normalizedShape: [5], weight: $0[1], bias: $0[2], eps: 1e-5)
        }
    }
    @Test func rmsNorm() { gradcheck([randn([2, 5]), randn([5])]) { Functional.rmsNorm($0[0], normalizedShape: [5], weight: $0[1], eps: 1e-6) } }
    @Test func softmax() { gradcheck([randn([3, 4])]) { $0[0].softmax(dim: -1) } }
    @Test func logSoftmax() { gradcheck([randn([3, 4])]) { $0[0].logSoftmax(dim: 0) } }
    @Test func attention() {
        let mask = Tensor([0.0, -1e9, 0, 0, 0, 0], shape: [1, 1, 3, 2])
        gradcheck([randn([1, 2, 3, 4]), randn([1, 2, 2, 4]), randn([1, 2, 2, 4])]) {
            Functional.scaledDotProductAttention($0[0], $0[1], $0[2], mask: mask)
        }
        gradcheck([randn([1, 2, 3, 4]), randn([1, 2, 3, 4]), randn([1, 2, 3, 4])]) {
            Functional.scaledDotProductAttention($0[0], $0[1], $0[2], isCausal: true)
        }
    }
    @Test func gelu() {
        gradcheck([randn([6])]) { $0[0].gelu() }
        gradcheck([randn([6])]) { $0[0].geluTanh() }
        gradcheck([randn([6])]) { $0[0].quickGelu() }
    }
    @Test func silu() { gradcheck([randn([6])]) { $0[0].silu() } }
    @Test func logSigmoid() { gradcheck([randn([6]) * 4.0]) { $0[0].logSigmoid() } }
    @Test func embedding() {
        let ids = Tensor([2, 0, 2, 3], shape: [2, 2])
        gradcheck([randn([4, 3])]) { Functional.embedding(ids, weight: $0[0]) }
    }
    @Test func conv2d() {
        gradcheck([randn([1, 2, 4, 4]), randn([3, 2, 2, 2]), randn([3])]) {
            Functional.conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 2))
        }
    }
    @Test func crossEntropy() {
        let target = Tensor([1, -100, 3, 0])
        gradcheck([randn([4, 5])]) { Functional.crossEntropy($0[0], target: target) }
    }
}
