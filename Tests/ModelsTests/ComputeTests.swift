import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

@Suite struct ComputeTests {
    @Test(arguments: [false, true])
    func rowsAreIndependentOfBatchAndPadding(interleave: Bool) throws {
        let model = try randomModel(interleave: interleave)
        let (ids, mask, pixels) = tinyBatch(model)
        let batch = try model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels)
        // Row 1 alone, unpadded and without any image, gives the same logits on its real tokens.
        let alone = try model.forward(inputIds: ids[1].narrow(0, start: 0, length: 5).unsqueeze(0), attentionMask: nil, pixelValues: nil)
        #expect(maxDifference(batch[1].narrow(0, start: 0, length: 5), alone[0]) < 1e-5)
        // Row 0 alone, with its image.
        let first = try model.forward(inputIds: ids[0].unsqueeze(0), attentionMask: nil, pixelValues: pixels)
        #expect(maxDifference(batch[0], first[0]) < 1e-5)
    }

    @Test func imagesChangeTheirRowOnly() throws {
        let model = try randomModel(interleave: false)
        let (ids, mask, pixels) = tinyBatch(model)
        let a = try model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels)
        let b = try model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels * 2.0)
        #expect(maxDifference(a[0], b[0]) > 1e-3)
        #expect(maxDifference(a[1], b[1]) == 0)
        #expect { try model.forward(inputIds: ids, attentionMask: mask, pixelValues: nil) } throws: {
            "\($0)" == "the text has 1 image placeholder token(s) but 0 image(s) were given"
        }
    }

    @Test func sequenceLogProbsSumLabelLogProbs() {
        // Two rows, vocabulary 3; labels -100 are skipped; position t is predicted from logits[t-1].
        let logits = Tensor([0.0, 1, 2, 2, 1, 0, 0, 0, 0, 1, 1, 1, 3, 0, 0, 0, 0, 0], shape: [2, 3, 3])
        let labels = Tensor([-100, 2, 0, -100, -100, 1], shape: [2, 3])
        func logSoftmax(_ row: [Double], _ i: Int) -> Double { row[i] - Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +)) }
        let expected0 = logSoftmax([0, 1, 2], 2) + logSoftmax([2, 1, 0], 0)
        let expected1 = logSoftmax([3, 0, 0], 1)
        let got: [Double] = SequenceLogProbs.compute(logits: logits, labels: labels).toArray()
        #expect(abs(got[0] - expected0) < 1e-6 && abs(got[1] - expected1) < 1e-6)
    }

    @Test func gradientsReachTrainableWeightsOnly() throws {
        let model = try randomModel(interleave: true)
        model.setTrainable(false, prefixes: ["vision_tower."])
        let (ids, mask, pixels) = tinyBatch(model)
        let labels = ids.maskedFill(mask.eq(0), -100).maskedFill(ids.eq(Scalar(model.config.imageTokenIndex)), -100)
        let logits = try model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels)
        SequenceLogProbs.compute(logits: logits, labels: labels).sum().backward()
        for (name, p) in model.namedParameters() {
            if name.hasPrefix("vision_tower.") {
                #expect(p.value.grad == nil, "\(name)")
            } else {
                #expect(p.value.grad != nil, "\(name)")
            }
        }
    }

    @Test func bfloat16StaysCloseToFloat32() throws {
        let model = try randomModel(interleave: false, std: 0.1)
        let (ids, mask, pixels) = tinyBatch(model)
        let full = try model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels)
        model.to(.bfloat16)
        let half = try model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels)
        #expect(half.dtype == .bfloat16)
        // bf16 has 8 significant bits (u = 2⁻⁸): within 64 u of the logits' scale, the bound
        // TransformersParityTests derives (two roundings per op, ~30 ops in series).
        let diff = maxDifference(half, full)
        let bound = 64.0 / 256 * full.abs().max().item().doubleValue
        #expect(diff > 0 && diff <= bound, "max |bf16 - fp32| = \(diff), bound \(bound)")
    }

    @Test(arguments: [false, true])
    func cachedGreedyGenerationEqualsFullRecomputation(interleave: Bool) throws {
        let model = try randomModel(interleave: interleave, std: 0.5)
        let img = model.config.imageTokenIndex
        let n = model.config.imageFeatureCount
        let prompts = [[1, 3] + Array(repeating: img, count: n) + [7], [1, 9, 2, 4, 6] + Array(repeating: img, count: n) + [8, 10]]
        let pixels = Tensor.randn([2, 3, 8, 8], generator: Generator(seed: 8))
        let options = GenerationOptions(maxNewTokens: 8, eosTokenIds: [], padTokenId: 0)
        let batched = try model.generate(prompts: prompts, pixelValues: pixels, options: options)
        // Each row alone (no padding), and by re-running the whole sequence each step without a cache.
        for (r, prompt) in prompts.enumerated() {
            let image = pixels.narrow(0, start: r, length: 1)
            #expect(try model.generate(prompts: [prompt], pixelValues: image, options: options) == [batched[r]])
            var sequence = prompt
            for _ in 0..<8 {
                let logits = try model.forward(inputIds: Tensor(sequence, shape: [1, sequence.count]), attentionMask: nil, pixelValues: image)
                sequence.append(logits[0][sequence.count - 1].argmax(dim: 0).item().intValue)
            }
            #expect(Array(sequence.dropFirst(prompt.count)) == batched[r])
        }
    }

    @Test func generationStopsAtEOSAndSamplesReproducibly() throws {
        let model = try randomModel(interleave: false, std: 0.5)
        let prompt = [[1, 3, 5]]
        let greedy = try model.generate(prompts: prompt, pixelValues: nil, options: GenerationOptions(maxNewTokens: 6))
        let stopAt = greedy[0][2]
        let stopped = try model.generate(prompts: prompt, pixelValues: nil, options: GenerationOptions(maxNewTokens: 6, eosTokenIds: [stopAt]))
        #expect(stopped[0] == Array(greedy[0].prefix(through: greedy[0].firstIndex(of: stopAt) ?? 0)))
        let sampling = GenerationOptions(maxNewTokens: 6, temperature: 1.5, topP: 0.9, seed: 3)
        let a = try model.generate(prompts: prompt, pixelValues: nil, options: sampling)
        #expect(a == (try model.generate(prompts: prompt, pixelValues: nil, options: sampling)))
        #expect(a[0].count == 6 && a[0].allSatisfy { (0..<53).contains($0) })
        // top-p that keeps only the most likely token is greedy.
        let nucleus = try model.generate(prompts: prompt, pixelValues: nil, options: GenerationOptions(maxNewTokens: 6, temperature: 1, topP: 1e-9, seed: 5))
        #expect(nucleus == greedy)
    }
}
