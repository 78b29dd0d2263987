import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

/// svco against HF transformers 4.57.1 on the tiny random checkpoints in Fixtures/ (made by
/// Fixtures/make_fixtures.py; facts in Fixtures/README.md).
@Suite struct TransformersParityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let families = ["llava15-tiny", "interleave-tiny"]

    struct Fixture {
        let folder: String
        let model: LlavaModel
        let reference: SafetensorsFile
        func ref(_ name: String) throws -> Tensor { try reference.tensor(name) }
    }

    static func load(_ name: String, dtype: DType? = nil) throws -> Fixture {
        let folder = fixtures + "/" + name
        return Fixture(folder: folder, model: try LlavaModel.load(directory: folder, dtype: dtype),
                       reference: try SafetensorsFile(path: folder + "/reference.safetensors"))
    }

    /// max |a - b| / max(1, |b|)
    static func relative(_ a: Tensor, _ b: Tensor) -> Double {
        let x = a.to(.float64), y = b.to(.float64)
        return ((x - y).abs() / y.abs().clamp(min: 1.0)).max().item().doubleValue
    }

    @Test(arguments: families)
    func logitsAndLogProbsMatch(_ name: String) throws {
        let f = try Self.load(name)
        let logits = try f.model.forward(inputIds: try f.ref("input_ids"), attentionMask: try f.ref("attention_mask"),
                                         pixelValues: try f.ref("pixel_values"))
        let logitDiff = maxDifference(logits, try f.ref("logits"))
        #expect(logitDiff < 1e-4, "\(name): max |Δlogit| = \(logitDiff)")
        let logps = SequenceLogProbs.compute(logits: logits, labels: try f.ref("labels"))
        #expect(maxDifference(logps, try f.ref("logps")) < 1e-4, "\(name): logps \(logps.toArray(Double.self))")
        let features = f.model.imageFeatures(try f.ref("pixel_values"))
        #expect(maxDifference(features, try f.ref("image_features")) < 1e-5)
        // Without an attention mask (no padding assumed) the real tokens of the unpadded row agree too.
        let row1 = try f.ref("attention_mask")[1].sum().item().intValue
        let alone = try f.model.forward(inputIds: try f.ref("input_ids")[1].narrow(0, start: 0, length: row1).unsqueeze(0),
                                        attentionMask: nil, pixelValues: nil)
        #expect(maxDifference(alone[0], try f.ref("logits")[1].narrow(0, start: 0, length: row1)) < 1e-4)
    }

    @Test(arguments: families)
    func visionHiddenStatesMatch(_ name: String) throws {
        let f = try Self.load(name)
        let states = f.model.visionTower.hiddenStates(try f.ref("pixel_values"), count: f.model.config.visionConfig.numHiddenLayers + 1)
        let expected = try f.ref("vision_hidden_states")
        // The last entry of SigLIP's tuple in 4.57.1 is post-layernormed (see Fixtures/README.md); compare the rest.
        let comparable = f.model.config.visionConfig.family == .siglip ? states.count - 1 : states.count
        for i in 0..<comparable {
            #expect(maxDifference(states[i], expected[i]) < 1e-5, "\(name): hidden state \(i)")
        }
    }

    /// transformers 4.57.1 applies SigLIP's post_layernorm to hidden_states[-1]; svco follows 4.45 and
    /// the released checkpoints (no post_layernorm). The fixture records both; this documents the gap.
    @Test func siglipPostLayerNormChoiceIsDeliberate() throws {
        let f = try Self.load("interleave-tiny")
        let features = f.model.imageFeatures(try f.ref("pixel_values"))
        #expect(maxDifference(features, try f.ref("image_features")) < 1e-5)
        #expect(maxDifference(features, try f.ref("image_features_with_post_layernorm")) > 1e-2)
    }

    @Test(arguments: families)
    func gradientsMatch(_ name: String) throws {
        let f = try Self.load(name)
        let logits = try f.model.forward(inputIds: try f.ref("input_ids"), attentionMask: try f.ref("attention_mask"),
                                         pixelValues: try f.ref("pixel_values"))
        SequenceLogProbs.compute(logits: logits, labels: try f.ref("labels")).sum().backward()
        let parameters = Dictionary(uniqueKeysWithValues: f.model.namedParameters().map { ($0.name, $0.parameter) })
        let gradNames = f.reference.names.filter { $0.hasPrefix("grad.") }
        #expect(gradNames.count >= 8)
        for gradName in gradNames {
            let key = String(gradName.dropFirst("grad.".count))
            guard let grad = parameters[key]?.value.grad else {
                Issue.record("\(name): no gradient for \(key)")
                continue
            }
            let expected = try f.ref(gradName)
            let scale = max(1e-3, expected.abs().max().item().doubleValue)
            let diff = maxDifference(grad, expected) / scale
            #expect(diff < 1e-4, "\(name): \(key) relative gradient error \(diff)")
        }
    }

    @Test(arguments: families)
    func compactSequencesExpandLikeTransformers(_ name: String) throws {
        let f = try Self.load(name)
        let ids: [Int] = try f.ref("input_ids_compact").toArray()
        let mask: [Int] = try f.ref("attention_mask_compact").toArray()
        let labels: [Int] = try f.ref("labels_compact").toArray()
        let width = try f.ref("input_ids_compact").size(1)
        let config = f.model.config
        let rows = (0..<3).map { r -> (ids: [Int], labels: [Int]) in
            let range = (r * width)..<(r * width + mask[(r * width)..<((r + 1) * width)].reduce(0, +))
            return ImageTokens.expand(ids: Array(ids[range]), labels: Array(labels[range]), imageToken: config.imageTokenIndex,
                                      featureCount: config.imageFeatureCount)
        }
        let batch = ImageTokens.rightPad(rows, padId: config.textConfig.padTokenId ?? 0)
        #expect(batch.ids.toArray(Int.self) == (try f.ref("input_ids").toArray(Int.self)))
        #expect(batch.mask.toArray(Int.self) == (try f.ref("attention_mask").toArray(Int.self)))
        #expect(batch.labels.toArray(Int.self) == (try f.ref("labels").toArray(Int.self)))
    }

    @Test(arguments: families)
    func greedyGenerationMatches(_ name: String) throws {
        let f = try Self.load(name)
        let ids: [Int] = try f.ref("generate_input_ids").toArray()
        let mask: [Int] = try f.ref("generate_attention_mask").toArray()
        let width = try f.ref("generate_input_ids").size(1)
        let prompts = (0..<2).map { r in (0..<width).filter { mask[r * width + $0] == 1 }.map { ids[r * width + $0] } }
        let text = f.model.config.textConfig
        struct GenerationConfig: Decodable { var eos_token_id: IntOrList? }
        let generationConfig = try JSONDecoder().decode(GenerationConfig.self, from: Data(
            contentsOf: URL(fileURLWithPath: f.folder + "/generation_config.json")))
        let eos = Set(generationConfig.eos_token_id?.values ?? [text.eosTokenId].compactMap { $0 })
        #expect(!eos.isEmpty)
        let options = GenerationOptions(maxNewTokens: 20, eosTokenIds: eos, padTokenId: text.padTokenId ?? 0)
        let generated = try f.model.generate(prompts: prompts, pixelValues: try f.ref("generate_pixel_values"), options: options)
        let expected: [Int] = try f.ref("generated_ids").toArray()
        for r in 0..<2 {
            #expect(generated[r] == Array(expected[(r * 20)..<((r + 1) * 20)]), "\(name) row \(r)")
        }
    }

    /// Weights stored in bfloat16: the error against float32 (computed in the same run, on this CPU) is of
    /// bfloat16's size — bounded by 64 units of its roundoff u = 2⁻⁸ relative to the logits' scale (two
    /// roundings per op, ~30 ops in series through 2 vision + 2 decoder layers, the projector and the
    /// head) —, and the same model in float16, whose roundoff is 8× finer, lands at most half as far: a
    /// bf16 path that silently ran in another precision, or a cast in the wrong place, fails one of the two.
    /// (HF's own bf16 logits — `logits_bf16` in the fixture — sit 0.28 / 0.26 from fp32 on the machine that
    /// made them; they are not compared here, as bf16 kernels differ between CPUs.)
    @Test(arguments: families)
    func bfloat16ErrorIsOfBFloat16sSize(_ name: String) throws {
        func run(_ dtype: DType?) throws -> Tensor {
            let f = try Self.load(name, dtype: dtype)
            if let dtype { #expect(f.model.dtype == dtype) }
            return try f.model.forward(inputIds: try f.ref("input_ids"), attentionMask: try f.ref("attention_mask"),
                                       pixelValues: try f.ref("pixel_values")).to(.float32)
        }
        let full = try run(nil), bf16 = try run(.bfloat16), fp16 = try run(.float16)
        let scale = full.abs().max().item().doubleValue
        let u = 1.0 / 256  // bfloat16: 8 significant bits
        let bfError = maxDifference(bf16, full), halfError = maxDifference(fp16, full)
        #expect(bfError <= 64 * u * scale, "\(name): bf16 logits \(bfError) from fp32 (scale \(scale))")
        #expect(halfError > 0 && halfError < bfError / 2, "\(name): fp16 \(halfError) vs bf16 \(bfError)")
    }

    @Test(arguments: families)
    func savedCheckpointEqualsTheTransformersFile(_ name: String) throws {
        let f = try Self.load(name)
        let out = temporaryFolder(name)
        try f.model.save(directory: out, configSource: f.folder)
        let ours = try SafetensorsFile(path: out + "/model.safetensors")
        let theirs = try SafetensorsFile(path: f.folder + "/model.safetensors")
        #expect(Set(ours.names) == Set(theirs.names))
        for entry in theirs.header.entries {
            let a = try ours.tensor(entry.name), b = try theirs.tensor(entry.name)
            #expect(a.dtype == b.dtype && a.shape == b.shape && a.bytes() == b.bytes(), "\(entry.name)")
        }
        #expect(ours.metadata["format"] == "pt")
    }
}

extension TransformersParityTests {
    /// Log-probs computed only at the scored positions equal the full-logits path and HF, with the
    /// same gradients.
    @Test(arguments: families)
    func scoredPositionLogProbsEqualTheFullPath(_ name: String) throws {
        let f = try Self.load(name)
        let ids = try f.ref("input_ids"), mask = try f.ref("attention_mask"), pixels = try f.ref("pixel_values"), labels = try f.ref("labels")
        let sparse = try f.model.sequenceLogProbs(inputIds: ids, attentionMask: mask, pixelValues: pixels, labels: labels)
        #expect(maxDifference(sparse, try f.ref("logps")) < 1e-4)
        let full = SequenceLogProbs.compute(logits: try f.model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels), labels: labels)
        #expect(maxDifference(sparse, full) < 1e-4)
        sparse.sum().backward()
        let key = "multi_modal_projector.linear_1.weight"
        let grad = f.model.namedParameters().first { $0.name == key }?.parameter.value.grad
        let expected = try f.ref("grad." + key)
        #expect(maxDifference(grad ?? Tensor.zeros([1]), expected) / max(1e-3, expected.abs().max().item().doubleValue) < 1e-4)
    }
}
