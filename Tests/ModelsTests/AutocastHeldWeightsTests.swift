import Testing
@testable import Models
@testable import NN
@testable import Torch

/// A frozen model that only runs under autocast may hold its linear layers' weights in the autocast
/// dtype: autocast rounds them so before every matmul anyway, so the results must be bitwise the same.
@Suite struct AutocastHeldWeightsTests {
    /// The HF module names of the linear layers of both families (language model, projector, vision
    /// encoder); everything else (embeddings, norms, the patch convolution) is read by other ops.
    static let linearModules: Set<String> = ["q_proj", "k_proj", "v_proj", "o_proj", "out_proj", "gate_proj", "up_proj", "down_proj",
                                             "fc1", "fc2", "linear_1", "linear_2", "lm_head"]

    static func isLinear(_ name: String) -> Bool {
        let parts = name.split(separator: ".")
        return parts.count >= 2 && linearModules.contains(String(parts[parts.count - 2]))
    }

    func logProbs(_ model: LlavaModel, autocast dtype: DType) throws -> Tensor {
        let (ids, mask, pixels) = tinyBatch(model)
        return try Autograd.noGrad {
            try Autocast.run(device: .cpu, dtype: dtype) {
                try model.sequenceLogProbs(inputIds: ids, attentionMask: mask, pixelValues: pixels, labels: ids.clone())
            }
        }
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)], [DType.bfloat16, .float16])
    func heldLinearWeightsGiveBitwiseTheSameLogProbs(family: (interleave: Bool, tied: Bool), dtype: DType) throws {
        let whole = try randomModel(interleave: family.interleave, tied: family.tied)
        let held = try randomModel(interleave: family.interleave, tied: family.tied)
        whole.setTrainable(false)
        held.setTrainable(false)
        let converted = held.holdLinearWeights(in: dtype)

        var expected = 0
        for (name, p) in held.namedParameters() {
            let linear = Self.isLinear(name)
            #expect(p.value.dtype == (linear ? dtype : .float32), "\(name)")
            if linear { expected += p.value.count }
        }
        #expect(converted == expected && expected > 0)
        if family.tied { #expect(held.namedParameters().allSatisfy { !$0.name.hasSuffix("lm_head.weight") }) }

        let a = try logProbs(whole, autocast: dtype), b = try logProbs(held, autocast: dtype)
        #expect(a.dtype == .float32 && b.dtype == .float32)
        #expect(maxDifference(a, b) == 0)
    }

    @Test func sharedAndTrainableParametersStayFloat32() throws {
        let config = try tinyConfig(interleave: false)
        let policy = try LlavaModel(config: config, loader: WeightLoader(randomSeed: 3))
        policy.visionTower.setTrainable(false)
        let reference = try LlavaModel(config: config, loader: WeightLoader(randomSeed: 3), sharedVisionTower: policy.visionTower)
        #expect(reference.visionTower === policy.visionTower)
        // A model that trains keeps its float32 weights: they are the optimiser's master copy.
        #expect(try randomModel(interleave: false).holdLinearWeights(in: .bfloat16) == 0)
        reference.setTrainable(false)
        let policyParameters = Set(policy.namedParameters().map { ObjectIdentifier($0.parameter) })
        reference.holdLinearWeights(in: .bfloat16, sparing: policyParameters)
        for (name, p) in reference.namedParameters() {
            let expected: DType = Self.isLinear(name) && !name.hasPrefix("vision_tower") ? .bfloat16 : .float32
            #expect(p.value.dtype == expected, "\(name)")
        }
        #expect(policy.namedParameters().allSatisfy { $0.parameter.value.dtype == .float32 })
    }
}
