import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

/// Gradient checkpointing on the tiny transformers checkpoints of both families: the loss and every
/// parameter's gradient equal those without checkpointing (fp32, `expectGradientsAgree`) and transformers'
/// own gradients (1e-4, as TransformersParityTests), and the layers really are recomputed.
@Suite struct GradientCheckpointingTests {
    typealias Parity = TransformersParityTests

    /// Σ of the per-sequence log-probs of the fixture's padded 3-row batch (2 with images), and the
    /// gradients of every parameter, with the vision tower trainable or frozen.
    static func lossAndGradients(_ name: String, checkpointing: Bool, freezeVision: Bool) throws -> (Double, [String: Tensor], Parity.Fixture) {
        let f = try Parity.load(name)
        if freezeVision { f.model.setTrainable(false, prefixes: [LlavaModel.visionPrefix + "."]) }
        f.model.gradientCheckpointing = checkpointing
        let (loss, grads) = try ModelsTests.lossAndGradients(f)
        return (loss, grads, f)
    }

    @Test(arguments: Parity.families, [false, true])
    func gradientsEqualThoseWithoutCheckpointing(_ name: String, freezeVision: Bool) throws {
        let (plainLoss, plain, f) = try Self.lossAndGradients(name, checkpointing: false, freezeVision: freezeVision)
        let (loss, recomputed, _) = try Self.lossAndGradients(name, checkpointing: true, freezeVision: freezeVision)
        #expect(abs(loss - plainLoss) <= 1e-6 * abs(plainLoss), "\(name): loss \(loss) vs \(plainLoss)")
        // A trainable tower's used layers get gradients (LLaVA-1.5 reads layer -2, so its last layer gets none).
        #expect(plain.keys.contains { $0.hasPrefix("vision_tower.vision_model.encoder.layers.0.") } == !freezeVision)
        #expect(plain.count > 20)
        // The plain graph recomputes the elementwise activations (the default), the checkpointed one does not.
        expectGradientsAgree(plain, recomputed, name)
        // And against transformers' gradients of the same loss (recorded with the tower trainable).
        guard !freezeVision else { return }
        for gradName in f.reference.names where gradName.hasPrefix("grad.") {
            let key = String(gradName.dropFirst("grad.".count))
            let expected = try f.ref(gradName)
            let diff = maxDifference(recomputed[key] ?? expected * 0.0 + 1e9, expected) / max(1e-3, expected.abs().max().item().doubleValue)
            #expect(diff < 1e-4, "\(name): \(key) relative error against transformers \(diff)")
        }
    }

    /// The backward pass recomputes the layers from their parameters: a weight swapped for a copy
    /// after the forward pass receives the gradient only when the layer is checkpointed (the plain
    /// graph holds the tensor the forward pass used).
    @Test(arguments: Parity.families, [false, true])
    func layersAreRecomputedInBackward(_ name: String, checkpointing: Bool) throws {
        let f = try Parity.load(name)
        f.model.gradientCheckpointing = checkpointing
        try expectGradientsReachSwappedCopies(f, ["language_model.model.layers.1.mlp.up_proj.weight",
                                                  "vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight"],
                                              recomputed: checkpointing, name)
    }

    /// Without gradient recording (the frozen reference model, evaluation) and in generation with a
    /// KV cache, checkpointing changes nothing.
    @Test(arguments: Parity.families)
    func inferenceIsUnaffected(_ name: String) throws {
        let f = try Parity.load(name)
        let ids = try f.ref("input_ids"), mask = try f.ref("attention_mask"), pixels = try f.ref("pixel_values")
        let plain = try Autograd.noGrad { try f.model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels) }
        f.model.gradientCheckpointing = true
        let checkpointed = try Autograd.noGrad { try f.model.forward(inputIds: ids, attentionMask: mask, pixelValues: pixels) }
        #expect(maxDifference(plain, checkpointed) == 0)
        #expect(maxDifference(checkpointed, try f.ref("logits")) < 1e-4)
    }
}
