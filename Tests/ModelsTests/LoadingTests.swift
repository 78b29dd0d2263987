import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

@Suite struct LoadingTests {
    @Test(arguments: [false, true])
    func stateDictRoundTripsInBothLayouts(interleave: Bool) throws {
        let model = try randomModel(interleave: interleave)
        let (ids, mask, pixels) = tinyBatch(model)
        let reference = try model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels)
        let state = model.stateDict()
        let config = try tinyConfig(interleave: interleave)
        let again = try LlavaModel(config: config, tensors: state, source: "memory")
        #expect(maxDifference(try again.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels), reference) == 0)
        // The nested (transformers ≥ 4.52 in-memory) names load to the same model.
        var nested: [String: Tensor] = [:]
        for (k, v) in state {
            if k.hasPrefix("language_model.model.") { nested["model.language_model." + k.dropFirst("language_model.model.".count)] = v }
            else if k == "language_model.lm_head.weight" { nested["lm_head.weight"] = v }
            else { nested["model." + k] = v }
        }
        let fromNested = try LlavaModel(config: config, tensors: nested, source: "memory")
        #expect(maxDifference(try fromNested.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels), reference) == 0)
        #expect(Set(fromNested.stateDict().keys) == Set(state.keys))  // saved back in the published layout
    }

    @Test func strictLoadingNamesKeyAndSource() throws {
        let config = try tinyConfig(interleave: false)
        let state = try randomModel(interleave: false).stateDict()
        var missing = state
        missing.removeValue(forKey: "language_model.model.layers.1.mlp.up_proj.weight")
        #expect { try LlavaModel(config: config, tensors: missing, source: "ckpt") } throws: {
            "\($0)" == "ckpt: tensor 'language_model.model.layers.1.mlp.up_proj.weight' is missing"
        }
        var extra = state
        extra["language_model.model.layers.2.mlp.up_proj.weight"] = Tensor.zeros([1])
        #expect { try LlavaModel(config: config, tensors: extra, source: "ckpt") } throws: {
            "\($0)".contains("ckpt: 1 unexpected tensor(s)") && "\($0)".contains("layers.2.mlp.up_proj.weight")
        }
        var misshaped = state
        misshaped["multi_modal_projector.linear_1.weight"] = Tensor.zeros([24, 15])
        #expect { try LlavaModel(config: config, tensors: misshaped, source: "ckpt") } throws: {
            "\($0)" == "ckpt: tensor 'multi_modal_projector.linear_1.weight' has shape [24, 15], the config implies [24, 16]"
        }
        var integer = state
        integer["multi_modal_projector.linear_1.bias"] = Tensor.zeros([24], dtype: .int64)
        #expect { try LlavaModel(config: config, tensors: integer, source: "ckpt") } throws: { "\($0)".contains("int64") }
        // Old transformers saved CLIP's position-id buffer: tolerated, dropped.
        var withBuffer = state
        withBuffer["vision_tower.vision_model.embeddings.position_ids"] = Tensor.arange(0, 5).unsqueeze(0)
        _ = try LlavaModel(config: config, tensors: withBuffer, source: "ckpt")
    }

    @Test func savedFolderReloadsWithSameLogits() throws {
        let model = try randomModel(interleave: true, tied: true)
        let source = temporaryFolder("src")
        try tinyConfigJSON(interleave: true, tied: true).write(toFile: source + "/config.json", atomically: true, encoding: .utf8)
        let out = temporaryFolder("out")
        try model.save(directory: out, configSource: source)
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["config.json", "model.safetensors"])
        let file = try SafetensorsFile(path: out + "/model.safetensors")
        #expect(file.metadata["format"] == "pt")
        #expect(!file.names.contains("language_model.lm_head.weight"))  // tied: left out, as transformers does
        #expect(file.names.allSatisfy { n in ["vision_tower.", "multi_modal_projector.", "language_model.model."].contains { n.hasPrefix($0) } })
        let reloaded = try LlavaModel.load(directory: out)
        let (ids, mask, pixels) = tinyBatch(model)
        #expect(maxDifference(try reloaded.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels),
                              try model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels)) == 0)
        // Sharded saving gives the same tensors.
        let sharded = temporaryFolder("sharded")
        try model.save(directory: sharded, configSource: source, maxShardBytes: 20_000)
        #expect(FileManager.default.fileExists(atPath: sharded + "/model.safetensors.index.json"))
        #expect(Set(try SafetensorsCheckpoint.load(directory: sharded).keys) == Set(file.names))
    }

    /// Parameters are registered in the order they are built, which is the order a random-weight
    /// loader draws them in: replaying the loader's rule (normal(0, std) per tensor from one seeded
    /// generator, 1 + that for 1-D tensors other than biases) over `namedParameters` gives the model.
    @Test(arguments: [false, true])
    func randomWeightsAreDrawnInRegistrationOrder(interleave: Bool) throws {
        let model = try randomModel(interleave: interleave, seed: 5, std: 0.3)
        let generator = Generator(seed: 5)
        for (name, p) in model.namedParameters() {
            var expected = Tensor.randn(p.value.shape, dtype: .float32, generator: generator) * 0.3
            if p.value.shape.count == 1 { expected = expected + (name.hasSuffix("bias") ? 0.0 : 1.0) }
            #expect(maxDifference(p.value, expected) == 0, "\(name)")
        }
    }

    @Test func parameterCountsFreezingAndDTypeMoves() throws {
        let model = try randomModel(interleave: false)
        // Projector: 16·24 + 24 + 24·24 + 24.
        #expect(model.parameterCount(prefix: "multi_modal_projector.") == 16 * 24 + 24 + 24 * 24 + 24)
        // Llama: embeddings + lm_head (untied) + 2 layers of (norms, q, k, v, o, MLP) + final norm.
        let layer = 24 + 24 + 24 * 24 + 2 * (24 * 12) + 24 * 24 + 3 * 24 * 40
        #expect(model.parameterCount(prefix: "language_model.") == 2 * 53 * 24 + 2 * layer + 24)
        let total = model.parameterCounts.first { $0.component == "total" }?.count
        #expect(total == model.parameterCount(prefix: "vision_tower.") + model.parameterCount(prefix: "multi_modal_projector.")
            + model.parameterCount(prefix: "language_model."))
        #expect(model.visionTower.setTrainable(false) == model.visionTower.namedParameters().count)
        let frozen = model.namedParameters().filter { !$0.parameter.trainable }.map(\.name)
        #expect(!frozen.isEmpty && frozen.allSatisfy { $0.hasPrefix("vision_tower.") })
        model.to(.bfloat16)
        #expect(model.dtype == .bfloat16)
        #expect(model.namedParameters().allSatisfy { $0.parameter.value.requiresGrad == $0.parameter.trainable })
        let tied = try randomModel(interleave: true, tied: true)
        #expect(tied.namedParameters().filter { $0.name.contains("lm_head") }.isEmpty)
    }
}
