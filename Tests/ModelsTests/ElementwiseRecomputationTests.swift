import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

/// `DecoderLM.recomputesElementwiseActivations` (on by default) on the tiny transformers checkpoints
/// of both families: the RMSNorms and the SwiGLU product are recomputed in the backward pass, and the
/// loss and every parameter's gradient equal those of the plain graph (fp32: the same forward, and
/// gradients that differ only in the order their terms are summed).
@Suite struct ElementwiseRecomputationTests {
    typealias Parity = TransformersParityTests

    static func lossAndGradients(_ name: String, recompute: Bool) throws -> (Double, [String: Tensor]) {
        let f = try Parity.load(name)
        f.model.languageModel.recomputesElementwiseActivations = recompute
        return try ModelsTests.lossAndGradients(f)
    }

    @Test(arguments: Parity.families)
    func gradientsEqualThoseOfThePlainGraph(_ name: String) throws {
        let (plainLoss, plain) = try Self.lossAndGradients(name, recompute: false)
        let (loss, recomputed) = try Self.lossAndGradients(name, recompute: true)
        #expect(loss == plainLoss, "\(name): the forward pass is the same ops: \(loss) vs \(plainLoss)")
        #expect(plain.keys.contains("language_model.model.layers.0.input_layernorm.weight"))
        expectGradientsAgree(plain, recomputed, name)
    }

    /// The norms really are recomputed: a norm weight swapped for a copy after the forward pass
    /// receives the gradient only when recomputing (the plain graph holds the tensor the forward used).
    @Test(arguments: Parity.families, [false, true])
    func normsAreRecomputedInBackward(_ name: String, recompute: Bool) throws {
        let f = try Parity.load(name)
        f.model.languageModel.recomputesElementwiseActivations = recompute
        try expectGradientsReachSwappedCopies(f, ["language_model.model.layers.1.input_layernorm.weight",
                                                  "language_model.model.layers.0.post_attention_layernorm.weight"],
                                              recomputed: recompute, name)
    }
}
