import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

/// Packed scoring (`PrefixPacking` + `LlavaModel.packedLogProbs`): the layout of a packed row by hand,
/// and, on the tiny transformers checkpoints of both families, log-probs and every parameter's gradient
/// equal to scoring each sequence on its own (fp32: 1e-5 relative), also with gradient checkpointing
/// and under float16/bfloat16 autocast (against the unshared path in the same run).
@Suite struct PrefixPackingTests {
    static let image = 99

    /// a = BOS 2 [img img] 3 | 4 5, b = BOS 2 [img img] 3 | 4 6 7: both answers start with 4, so the
    /// shared prefix (6 tokens) holds a scored token of each.
    static func handPair() -> [ScoredSequence] {
        let i = image
        return [
            ScoredSequence(ids: [1, 2, i, i, 3, 4, 5], labels: [-100, -100, -100, -100, -100, 4, 5], images: ["x"], owner: 0),
            ScoredSequence(ids: [1, 2, i, i, 3, 4, 6, 7], labels: [-100, -100, -100, -100, -100, 4, 6, 7], images: ["x"], owner: 1),
        ]
    }

    @Test func aPackedRowByHand() throws {
        let plan = try PrefixPacking.plan(Self.handPair(), pairs: [(0, 1)], sequenceCount: 2, imageToken: Self.image, featureCount: 2)
        #expect(plan.forwards.count == 1)
        let f = plan.forwards[0]
        #expect(f.rows == 1 && f.width == 9)  // 6 shared + 1 of a + 2 of b
        #expect(f.ids == [1, 2, 0, 0, 3, 4, 5, 6, 7])
        #expect(f.positions == [0, 1, 2, 3, 4, 5, 6, 6, 7])  // answer B restarts at the prefix length
        #expect(f.segments == [0, 0, 0, 0, 0, 0, 1, 2, 2])
        #expect(f.imagePositions == [2, 3] && f.imageSlots == [0] && plan.images == ["x"])
        // a: 4 ← pos 4, 5 ← pos 5.  b: 4 ← pos 4 (shared, counted again), 6 ← pos 5 (the last prefix
        // position, not a's last token at 6), 7 ← pos 7 (b's own 6).
        #expect(f.predictors == [4, 5, 4, 5, 7])
        #expect(f.targets == [4, 5, 4, 6, 7])
        #expect(f.owners == [0, 0, 1, 1, 1])
        #expect(plan.tokenCounts == [2, 3])
        #expect(plan.computedPositions == 9)  // unshared: 7 + 8
    }

    @Test func thePrefixStopsBeforeAnImageThatDiffers() throws {
        var pair = Self.handPair()
        pair[1].images = ["y"]
        #expect(PrefixPacking.sharedPrefixLength(pair[0], pair[1], imageToken: Self.image, featureCount: 2) == 2)
        let plan = try PrefixPacking.plan(pair, pairs: [(0, 1)], sequenceCount: 2, imageToken: Self.image, featureCount: 2)
        #expect(plan.images == ["x", "y"])
        #expect(plan.forwards[0].imageSlots == [0, 1] && plan.forwards[0].imagePositions == [2, 3, 7, 8])
    }

    @Test func textOnlyRowsGetTheirOwnWidthAndMismatchesThrow() throws {
        var seqs = Self.handPair()
        seqs.append(ScoredSequence(ids: [1, 4, 5], labels: [-100, 4, 5], images: [], owner: 2))
        let plan = try PrefixPacking.plan(seqs, pairs: [], sequenceCount: 3, imageToken: Self.image, featureCount: 2,
                                          options: .init(sharePrefixes: false))
        #expect(plan.forwards.map(\.width) == [8, 3] && plan.forwards.map(\.rows) == [2, 1])
        #expect(plan.forwards[1].segments == nil)  // one unpadded row: plain causal attention
        let single = try PrefixPacking.plan(seqs, pairs: [], sequenceCount: 3, imageToken: Self.image, featureCount: 2,
                                            options: .init(sharePrefixes: false, separateTextOnlyRows: false))
        #expect(single.forwards.map(\.width) == [8] && single.computedPositions == 24)
        seqs[2].images = ["z"]
        #expect(throws: ModelInputError.self) {
            try PrefixPacking.plan(seqs, pairs: [], sequenceCount: 3, imageToken: Self.image, featureCount: 2)
        }
    }

    // MARK: numbers

    /// Sequences for a model: an image pair sharing image A and a prompt (answers that start alike, one
    /// 3 tokens longer), a pair on image B, a text-only pair, and a lone sequence on image A.
    static func sequences(_ model: LlavaModel) -> (seqs: [ScoredSequence], pairs: [(Int, Int)], pixels: [String: Tensor]) {
        let img = model.config.imageTokenIndex
        let n = model.config.imageFeatureCount
        let v = model.config.textConfig.vocabSize
        let g = Generator(seed: 11)
        func ids(_ count: Int) -> [Int] { Tensor.randint(3, min(v, img), [count], generator: g).toArray() }
        func seq(_ prompt: [Int], _ answer: [Int], image: String?, owner: Int) -> ScoredSequence {
            let all = [1] + prompt + (image == nil ? [] : Array(repeating: img, count: n)) + [7] + answer
            let labels = Array(repeating: -100, count: all.count - answer.count) + answer
            return ScoredSequence(ids: all, labels: labels, images: image.map { [$0] } ?? [], owner: owner)
        }
        let prompt = ids(5), shared = ids(2)
        let seqs = [
            seq(prompt, shared + ids(3), image: "A", owner: 0),
            seq(prompt, shared + ids(6), image: "A", owner: 1),
            seq(prompt, ids(4), image: "B", owner: 2),
            seq(prompt, ids(2), image: "B", owner: 3),
            seq(prompt, ids(5), image: nil, owner: 4),
            seq(prompt, ids(3), image: nil, owner: 5),
            seq(ids(3), ids(4), image: "A", owner: 6),
        ]
        let size = model.config.visionConfig.imageSize
        let pixels = ["A": Tensor.randn([1, 3, size, size], generator: g), "B": Tensor.randn([1, 3, size, size], generator: g)]
        return (seqs, [(0, 1), (2, 3), (4, 5)], pixels)
    }

    /// Weights of the per-sequence log-probs in the loss (distinct, so a misattributed token shows).
    static let weights: [Double] = [1.0, -0.7, 0.4, 1.3, -1.1, 0.6, 0.9]

    /// Log-probs and gradients (vision tower frozen, as in training) of Σ wᵢ logpᵢ.
    static func run(_ model: LlavaModel, packed: Bool, autocast: DType? = nil) throws -> (logps: Tensor, grads: [String: Tensor]) {
        let (seqs, pairs, pixels) = sequences(model)
        model.setTrainable(false, prefixes: [LlavaModel.visionPrefix + "."])
        for (_, p) in model.namedParameters() { p.value.zeroGrad() }
        func body() throws -> Tensor {
            if packed {
                let plan = try PrefixPacking.plan(seqs, pairs: pairs, sequenceCount: seqs.count, imageToken: model.config.imageTokenIndex,
                                                  featureCount: model.config.imageFeatureCount)
                let images = Tensor.cat(plan.images.map { pixels[$0]! })
                return try model.packedLogProbs(plan, images: .pixels(images))
            }
            return Tensor.cat(try seqs.map { s in
                try model.sequenceLogProbs(inputIds: Tensor(s.ids, shape: [1, s.ids.count]), attentionMask: nil,
                                           pixelValues: s.images.first.map { pixels[$0]! }, labels: Tensor(s.labels, shape: [1, s.labels.count]))
            })
        }
        let logps = try autocast.map { try Autocast.run(device: .cpu, dtype: $0, body) } ?? body()
        (logps * Tensor(weights, shape: [weights.count]).to(.float32)).sum().backward()
        var grads: [String: Tensor] = [:]
        for (key, p) in model.namedParameters() { if let g = p.value.grad { grads[key] = g.clone() } }
        return (logps.detach(), grads)
    }

    /// max over tensors of max|a − b| / max|b|.
    static func worstGradient(_ a: [String: Tensor], _ b: [String: Tensor]) -> (Double, String) {
        var worst = (0.0, "")
        for (key, g) in b {
            guard let other = a[key] else { return (.infinity, key + " missing") }
            let d = maxDifference(other, g) / max(1e-12, g.abs().max().item().doubleValue)
            if d > worst.0 { worst = (d, key) }
        }
        return worst
    }

    @Test(arguments: TransformersParityTests.families, [false, true])
    func packedEqualsUnsharedInFloat32(_ name: String, checkpointing: Bool) throws {
        let model = try TransformersParityTests.load(name).model
        let plain = try Self.run(model, packed: false)
        model.gradientCheckpointing = checkpointing
        let packed = try Self.run(model, packed: true)
        #expect(packed.logps.shape == [7])
        let rel = ((packed.logps.to(.float64) - plain.logps.to(.float64)).abs() / plain.logps.to(.float64).abs().clamp(min: 1)).max().item().doubleValue
        #expect(rel <= 1e-5, "\(name): log-probs differ by \(rel) relative")
        #expect(Set(packed.grads.keys) == Set(plain.grads.keys) && plain.grads.count > 10)
        let (worst, key) = Self.worstGradient(packed.grads, plain.grads)
        #expect(worst <= 1e-5, "\(name): \(key) gradient differs by \(worst) of its largest element")
    }

    /// Under autocast the packed and unshared paths round differently (other kernels, other masks);
    /// their gap must stay within the format's own error, measured in the same run as the unshared
    /// path's distance from float32, plus a few units of the format's roundoff u (2⁻¹² float16, 2⁻⁹ bfloat16).
    @Test(arguments: TransformersParityTests.families, [DType.float16, .bfloat16])
    func packedStaysWithinTheFormatsErrorUnderAutocast(_ name: String, dtype: DType) throws {
        let model = try TransformersParityTests.load(name).model
        let exact = try Self.run(model, packed: false)
        let plain = try Self.run(model, packed: false, autocast: dtype)
        let packed = try Self.run(model, packed: true, autocast: dtype)
        let u: Double = dtype == .float16 ? 1.0 / 4096 : 1.0 / 512  // 2⁻¹², 2⁻⁹
        let formatError = maxDifference(plain.logps, exact.logps)
        let scale = exact.logps.abs().max().item().doubleValue
        let gap = maxDifference(packed.logps, plain.logps)
        #expect(gap <= 2 * formatError + 4 * u * scale, "\(name) \(dtype): packed vs unshared \(gap), unshared vs fp32 \(formatError)")
        for (key, g) in exact.grads {
            guard let p = packed.grads[key], let q = plain.grads[key] else {
                Issue.record("\(key) missing")
                continue
            }
            let size = g.abs().max().item().doubleValue
            let bound = 2 * maxDifference(q, g) + 4 * u * size
            #expect(maxDifference(p, q) <= bound, "\(name) \(dtype): \(key) gap \(maxDifference(p, q)) > \(bound)")
        }
    }
}
