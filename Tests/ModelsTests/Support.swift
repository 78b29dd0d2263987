import Foundation
import Testing
@testable import Models
@testable import NN
@testable import Torch

/// A tiny LLaVA config of either family, as JSON.
func tinyConfigJSON(interleave: Bool, tied: Bool = false, featureLayer: String = "-2", strategy: String? = nil) -> String {
    let vision = interleave
        ? #""vision_config": {"model_type": "siglip_vision_model", "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 8, "patch_size": 4, "vision_use_head": false}"#
        : #""vision_config": {"model_type": "clip_vision_model", "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 3, "num_attention_heads": 2, "image_size": 8, "patch_size": 4}"#
    let text = interleave
        ? #""text_config": {"model_type": "qwen2", "vocab_size": 51, "hidden_size": 24, "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": \#(tied)}"#
        : #""text_config": {"model_type": "llama", "vocab_size": 53, "hidden_size": 24, "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": \#(tied)}"#
    let strategyValue = strategy ?? (interleave ? "full" : "default")
    return """
    {"model_type": "llava", \(vision), \(text), "image_token_index": 50, "vision_feature_layer": \(featureLayer),
     "vision_feature_select_strategy": "\(strategyValue)", "projector_hidden_act": "gelu"}
    """
}

func tinyConfig(interleave: Bool, tied: Bool = false) throws -> LlavaConfig {
    try ConfigFile.decode(LlavaConfig.self, data: Data(tinyConfigJSON(interleave: interleave, tied: tied).utf8), path: "config.json")
}

func randomModel(interleave: Bool, tied: Bool = false, seed: UInt64 = 1, std: Double = 0.2) throws -> LlavaModel {
    try LlavaModel(config: tinyConfig(interleave: interleave, tied: tied), loader: WeightLoader(randomSeed: seed, std: std))
}

/// A batch: row 0 with one image, row 1 without (right-padded), for the tiny configs (4 image tokens).
func tinyBatch(_ model: LlavaModel) -> (ids: Tensor, mask: Tensor, pixels: Tensor) {
    let img = model.config.imageTokenIndex
    let n = model.config.imageFeatureCount
    let row0 = [1, 5, 7] + Array(repeating: img, count: n) + [9, 11, 13]
    let row1 = [1, 4, 6, 8, 10]
    let width = row0.count
    let ids = row0 + row1 + Array(repeating: 0, count: width - row1.count)
    let mask = Array(repeating: 1, count: width) + Array(repeating: 1, count: row1.count) + Array(repeating: 0, count: width - row1.count)
    let pixels = Tensor.randn([1, 3, 8, 8], generator: Generator(seed: 4))
    return (Tensor(ids, shape: [2, width]), Tensor(mask, shape: [2, width]), pixels)
}

func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
    (a.to(.float64) - b.to(.float64)).abs().max().item().doubleValue
}

func temporaryFolder(_ name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "svco-models-\(name.filter { $0.isLetter })-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Expects two float32 gradient sets of the same model, computed by paths that sum the same terms in a
/// different order, to agree: each tensor within 2e-6 of its own largest entry (16 float32 ulps,
/// the rounding that reordered sums leave after passing back through the decoder and the tower).
/// Attention key biases are the exception: softmax ignores a shift shared by every key, so their exact
/// gradient is 0 and what is computed is rounding noise; they are held to 1e-6 of the largest gradient.
func expectGradientsAgree(_ a: [String: Tensor], _ b: [String: Tensor], _ label: String,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Set(a.keys) == Set(b.keys), "\(label): gradient sets differ", sourceLocation: sourceLocation)
    let largest = a.values.map { $0.abs().max().item().doubleValue }.max() ?? 0
    for (key, g) in a {
        guard let other = b[key] else { continue }
        let diff = maxDifference(other, g)
        if key.hasSuffix("k_proj.bias") {
            #expect(diff <= 1e-6 * largest, "\(label): \(key) differs by \(diff) (largest gradient \(largest))",
                    sourceLocation: sourceLocation)
        } else {
            let scale = max(1e-12, g.abs().max().item().doubleValue)
            #expect(diff <= 2e-6 * scale, "\(label): \(key) relative gradient difference \(diff / scale)",
                    sourceLocation: sourceLocation)
        }
    }
}

/// Probes whether the backward pass reads parameters again: runs the fixture's scoring forward pass,
/// swaps each named parameter for a copy, runs backward, and expects the copy to receive the gradient
/// when that part is recomputed, the original (held by the graph) when it is not.
func expectGradientsReachSwappedCopies(_ f: TransformersParityTests.Fixture, _ keys: [String], recomputed: Bool, _ label: String,
                                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    let params = Dictionary(uniqueKeysWithValues: f.model.namedParameters().map { ($0.name, $0.parameter) })
    let logps = try f.model.sequenceLogProbs(inputIds: try f.ref("input_ids"), attentionMask: try f.ref("attention_mask"),
                                             pixelValues: try f.ref("pixel_values"), labels: try f.ref("labels"))
    var originals: [Tensor] = []
    for key in keys {
        guard let p = params[key] else { Issue.record("no \(key)", sourceLocation: sourceLocation); return }
        originals.append(p.value)
        p.value = p.value.detach().clone().requiresGrad(true)
    }
    logps.sum().backward()
    for (key, original) in zip(keys, originals) {
        #expect((params[key]?.value.grad != nil) == recomputed, "\(label): \(key) copy", sourceLocation: sourceLocation)
        #expect((original.grad != nil) == !recomputed, "\(label): \(key) original", sourceLocation: sourceLocation)
    }
}

/// The sum of the fixture batch's per-sequence log-probs and the gradient of every parameter that got one.
func lossAndGradients(_ f: TransformersParityTests.Fixture) throws -> (loss: Double, gradients: [String: Tensor]) {
    let loss = try f.model.sequenceLogProbs(inputIds: try f.ref("input_ids"), attentionMask: try f.ref("attention_mask"),
                                            pixelValues: try f.ref("pixel_values"), labels: try f.ref("labels")).sum()
    loss.backward()
    var grads: [String: Tensor] = [:]
    for (key, p) in f.model.namedParameters() { if let g = p.value.grad { grads[key] = g } }
    return (loss.item().doubleValue, grads)
}
