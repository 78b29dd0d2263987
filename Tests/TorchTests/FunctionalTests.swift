import Foundation
import Testing
@testable import Torch

@Suite struct FunctionalTests {
    let x: [Double] = [-3, -1, -0.25, 0, 0.5, 2]

    @Test func activations() {
        let t = Tensor(x)
        expectValues(t.gelu(), x.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) })
        expectValues(t.geluTanh(), x.map { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) })
        expectValues(t.quickGelu(), x.map { $0 / (1 + Foundation.exp(-1.702 * $0)) })
        expectValues(t.silu(), x.map { $0 / (1 + Foundation.exp(-$0)) })
    }

    @Test func embeddingPicksRows() {
        let w = iota([4, 2])
        expectValues(Functional.embedding(Tensor([3, 0, 3], shape: [1, 3]), weight: w), [6, 7, 0, 1, 6, 7])
    }

    @Test func layerNormAndRMSNorm() {
        let row: [Double] = [1, 2, 4, 9]
        let mean = row.reduce(0, +) / 4
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4  // biased, as torch
        let w: [Double] = [1, -1, 0.5, 2], b: [Double] = [0, 1, 0, -1]
        let ln = row.indices.map { (row[$0] - mean) / (variance + 1e-5).squareRoot() * w[$0] + b[$0] }
        expectValues(Functional.layerNorm(Tensor(row), normalizedShape: [4], weight: Tensor(w), bias: Tensor(b), eps: 1e-5), ln)
        let ms = row.map { $0 * $0 }.reduce(0, +) / 4
        let rms = row.indices.map { row[$0] / (ms + 1e-6).squareRoot() * w[$0] }
        expectValues(Functional.rmsNorm(Tensor(row), normalizedShape: [4], weight: Tensor(w), eps: 1e-6), rms)
        expectValues(Functional.rmsNorm(Tensor(row), normalizedShape: [4], weight: nil, eps: 1e-6), row.map { $0 / (ms + 1e-6).squareRoot() })
    }

    @Test func conv2dWindows() {
        let input = iota([1, 1, 3, 3])  // 0…8
        let ones = Tensor.ones([1, 1, 2, 2], dtype: .float64)
        expectValues(Functional.conv2d(input, weight: ones), [8, 12, 20, 24])
        // Stride 2 with one pixel of zero padding: windows see (0), (1+2), (3+6), (4+5+7+8); plus bias 1.
        expectValues(Functional.conv2d(input, weight: ones, bias: Tensor([1.0]), stride: (2, 2), padding: (1, 1)), [1, 4, 10, 25])
        // Two output channels, the second weight doubled.
        let w = Tensor.cat([ones, ones * 2.0], dim: 0)
        expectValues(Functional.conv2d(input, weight: w), [8, 12, 20, 24, 16, 24, 40, 48])
    }

    @Test func dropout() {
        let t = Tensor.ones([1000], dtype: .float64)
        expectValues(Functional.dropout(t, p: 0.5, training: false).sum(), [1000])
        expectValues(Functional.dropout(t, p: 1, training: true).sum(), [0])
        let kept: [Double] = Functional.dropout(t, p: 0.5, training: true).toArray()
        // Survivors are scaled by 1/(1-p) = 2; about half survive.
        #expect(kept.allSatisfy { $0 == 0 || $0 == 2 })
        let survivors = kept.filter { $0 == 2 }.count
        #expect(survivors > 400 && survivors < 600)
    }

    /// softmax(q kᵀ · scale + mask) v, written out with primitives.
    func explicitAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, additive: Tensor?, scale: Double) -> Tensor {
        var scores = q.matmul(k.transpose(-2, -1)) * scale
        if let additive { scores = scores + additive }
        return scores.softmax(dim: -1).matmul(v)
    }

    @Test func scaledDotProductAttention() {
        let g = Generator(seed: 3)
        let q = Tensor.randn([2, 2, 4, 8], dtype: .float64, generator: g)
        let k = Tensor.randn([2, 2, 4, 8], dtype: .float64, generator: g)
        let v = Tensor.randn([2, 2, 4, 8], dtype: .float64, generator: g)
        let scale = 1 / 8.0.squareRoot()
        let noMask = explicitAttention(q, k, v, additive: nil, scale: scale)
        #expect(Functional.scaledDotProductAttention(q, k, v).allClose(noMask, rtol: 1e-10, atol: 1e-12))
        let causalAdditive = Tensor.ones([4, 4], dtype: .bool).tril().logicalNot().to(.float64) * -1e30
        let causal = explicitAttention(q, k, v, additive: causalAdditive, scale: scale)
        #expect(Functional.scaledDotProductAttention(q, k, v, isCausal: true).allClose(causal, rtol: 1e-10, atol: 1e-12))
        // A bool mask (true = attend) equals the additive mask it implies.
        let boolMask = Tensor.ones([4, 4], dtype: .bool).tril()
        #expect(Functional.scaledDotProductAttention(q, k, v, mask: boolMask).allClose(causal, rtol: 1e-10, atol: 1e-12))
        // Padding mask per batch row, additive, with an explicit scale.
        let pad = Tensor([0.0, 0, 0, -1e30, 0, 0, -1e30, -1e30], shape: [2, 1, 1, 4])
        #expect(Functional.scaledDotProductAttention(q, k, v, mask: pad, scale: 0.5)
            .allClose(explicitAttention(q, k, v, additive: pad, scale: 0.5), rtol: 1e-10, atol: 1e-12))
        // Grouped-query attention: 4 query heads share 2 key/value heads.
        let q4 = Tensor.randn([1, 4, 3, 8], dtype: .float64, generator: g)
        let k2 = Tensor.randn([1, 2, 3, 8], dtype: .float64, generator: g)
        let v2 = Tensor.randn([1, 2, 3, 8], dtype: .float64, generator: g)
        let gqa = Functional.scaledDotProductAttention(q4, k2, v2, isCausal: true, enableGQA: true)
        let expanded = Functional.scaledDotProductAttention(q4, k2.repeatInterleave(2, dim: 1), v2.repeatInterleave(2, dim: 1), isCausal: true)
        #expect(gqa.allClose(expanded, rtol: 1e-10, atol: 1e-12))
    }

    @Test func crossEntropyIgnoresPadding() {
        let logits = Tensor([1.0, 2, 3, 1, 1, 1, 0, 0, 5], shape: [3, 3])
        let target = Tensor([2, -100, 0])
        let l0 = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2) + Foundation.exp(3)) - 3
        let l2 = Foundation.log(2 + Foundation.exp(5.0))
        expectValues(Functional.crossEntropy(logits, target: target), [(l0 + l2) / 2])
        expectValues(Functional.crossEntropy(logits, target: target, reduction: .sum), [l0 + l2])
        expectValues(Functional.crossEntropy(logits, target: target, reduction: .none), [l0, 0, l2])
    }
}
