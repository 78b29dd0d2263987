import Foundation
import Testing
@testable import Models

/// The published 7B configs in configs/llava-hf: svco reads them with transformers' defaults for
/// the fields they leave out (values from LlamaConfig / Qwen2Config / CLIPVisionConfig / SiglipVisionConfig).
@Suite struct PublishedConfigTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/configs/llava-hf"

    @Test func llava15Vicuna7B() throws {
        let c = try ConfigFile.decode(LlavaConfig.self, path: Self.root + "/llava-1.5-7b-hf/config.json")
        let t = c.textConfig
        #expect(t.family == .llama && t.vocabSize == 32064 && t.hiddenSize == 4096 && t.intermediateSize == 11008)
        #expect(t.numHiddenLayers == 32 && t.numAttentionHeads == 32 && t.numKeyValueHeads == 32 && t.headDim == 128)
        #expect(t.rmsNormEps == 1e-5 && t.maxPositionEmbeddings == 4096 && t.ropeTheta == 10000 && !t.tieWordEmbeddings)
        let v = c.visionConfig
        #expect(v.family == .clip && v.hiddenSize == 1024 && v.numHiddenLayers == 24 && v.intermediateSize == 4096)
        #expect(v.imageSize == 336 && v.patchSize == 14 && v.hiddenAct == .quickGelu)
        #expect(c.imageTokenIndex == 32000 && c.visionFeatureLayer == .int(-2) && c.imageFeatureCount == 576)
    }

    @Test func interleaveQwen7B() throws {
        let c = try ConfigFile.decode(LlavaConfig.self, path: Self.root + "/llava-interleave-qwen-7b-hf/config.json")
        let t = c.textConfig
        // hidden_size, num_hidden_layers, num_attention_heads and num_key_value_heads are not in the file.
        #expect(t.family == .qwen2 && t.vocabSize == 152000 && t.hiddenSize == 4096 && t.intermediateSize == 11008)
        #expect(t.numHiddenLayers == 32 && t.numAttentionHeads == 32 && t.numKeyValueHeads == 32 && t.headDim == 128)
        #expect(t.rmsNormEps == 1e-6 && t.ropeTheta == 1_000_000 && t.attentionBias && !t.tieWordEmbeddings)
        #expect(t.eosTokenId == 151645)
        let v = c.visionConfig
        #expect(v.family == .siglip && v.hiddenSize == 1152 && v.numHiddenLayers == 26 && v.intermediateSize == 4304)
        #expect(v.imageSize == 384 && v.patchSize == 14 && !v.visionUseHead)
        #expect(c.imageTokenIndex == 151646 && c.visionFeatureLayer == .int(-1) && c.imageFeatureCount == 729)
    }
}
