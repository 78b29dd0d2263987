import Foundation
import Testing
@testable import Models
@testable import NN

@Suite struct ConfigTests {
    func decode(_ json: String) throws -> LlavaConfig {
        try ConfigFile.decode(LlavaConfig.self, data: Data(json.utf8), path: "cfg.json")
    }

    @Test func defaultsFollowTransformers() throws {
        let c = try decode(#"{"model_type": "llava"}"#)
        // LlavaConfig's default vision tower is CLIP ViT-L/14-336; its text config LlamaConfig's defaults.
        #expect(c.visionConfig == .llavaDefault)
        #expect(c.textConfig.hiddenSize == 4096 && c.textConfig.numHiddenLayers == 32 && c.textConfig.vocabSize == 32000)
        #expect(c.textConfig.numKeyValueHeads == 32 && c.textConfig.headDim == 128 && c.textConfig.ropeTheta == 10000)
        #expect(c.textConfig.maxPositionEmbeddings == 2048 && !c.textConfig.tieWordEmbeddings && !c.textConfig.attentionBias)
        #expect(c.imageTokenIndex == 32000 && c.visionFeatureLayer == .int(-2) && c.visionFeatureSelectStrategy == .default)
        #expect(c.imageFeatureCount == 576)  // (336/14)² patches, CLS dropped
        let q = try decode(#"{"text_config": {"model_type": "qwen2", "vocab_size": 152000}, "vision_config": {"model_type": "siglip_vision_model", "image_size": 384, "patch_size": 14}, "vision_feature_select_strategy": "full", "vision_feature_layer": -1, "image_token_id": 151646}"#)
        #expect(q.textConfig.attentionBias && q.textConfig.maxPositionEmbeddings == 32768)
        #expect(q.visionConfig.hiddenAct == .geluTanh && q.visionConfig.layerNormEps == 1e-6 && q.visionConfig.visionUseHead)
        #expect(q.imageFeatureCount == 729)  // (384/14)² = 27², no CLS
        #expect(q.imageTokenIndex == 151646)
    }

    @Test(arguments: [
        (#"{"model_type": "blip"}"#, "field 'model_type': 'blip' is not supported"),
        (#"{"text_config": {"model_type": "gpt2"}}"#, "field 'text_config.model_type'"),
        (#"{"vision_config": {"model_type": "vit"}}"#, "field 'vision_config.model_type'"),
        (#"{"text_config": {"hidden_size": 100, "num_attention_heads": 3}}"#, "field 'text_config.head_dim': must be even"),
        (#"{"text_config": {"num_attention_heads": 32, "num_key_value_heads": 5}}"#, "not divisible by num_key_value_heads"),
        (#"{"text_config": {"hidden_act": "relu"}}"#, "field 'text_config.hidden_act': 'relu' is not supported"),
        (#"{"text_config": {"hidden_size": "big"}}"#, "field 'text_config.hidden_size': has the wrong type"),
        (#"{"text_config": {"rope_scaling": {"rope_type": "yarn", "factor": 4}}}"#, "field 'text_config.rope_scaling.rope_type'"),
        (#"{"vision_config": {"image_size": 10, "patch_size": 14}}"#, "field 'vision_config.image_size'"),
        (#"{"vision_feature_layer": -40}"#, "field 'vision_feature_layer'"),
        (#"{"vision_feature_select_strategy": "cls"}"#, "field 'vision_feature_select_strategy'"),
        (#"{"projector_hidden_act": "swish"}"#, "field 'projector_hidden_act'"),
        (#"{"image_token_index": -5}"#, "field 'image_token_index'"),
        (#"{"model_type": "llava", "#, "is not valid JSON"),
    ])
    func badConfigsNameTheField(json: String, phrase: String) {
        #expect {
            try decode(json)
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("cfg.json: ") && message.contains(phrase)
        }
    }

    @Test func choicesAreParsedOnce() throws {
        let c = try decode(#"{"projector_hidden_act": "gelu_pytorch_tanh", "vision_feature_select_strategy": "full", "vision_config": {"hidden_act": "gelu"}, "text_config": {"hidden_act": "gelu_new", "rope_scaling": {"type": "linear", "factor": 2}}}"#)
        #expect(c.projectorHiddenAct == .geluTanh && c.visionFeatureSelectStrategy == .full && c.visionConfig.hiddenAct == .gelu)
        #expect(c.textConfig.hiddenAct == .geluNew && c.textConfig.ropeScaling == .linear(factor: 2))
        #expect(c.imageFeatureCount == 50)  // CLIPVisionConfig defaults: (224/32)² patches + the class token "full" keeps
        let plain = try decode(#"{"text_config": {"rope_scaling": null}}"#)
        #expect(plain.textConfig.ropeScaling == RopeScaling.none && plain.textConfig.hiddenAct == .silu)
        #expect(try decode(#"{"text_config": {"rope_scaling": {"rope_type": "default"}}}"#).textConfig.ropeScaling == RopeScaling.none)
        #expect { try decode(#"{"text_config": {"rope_scaling": {"rope_type": "linear"}}}"#) } throws: {
            "\($0)" == "cfg.json: field 'text_config.rope_scaling.factor': must be a positive number for linear scaling"
        }
        #expect { try decode(#"{"vision_feature_select_strategy": "cls"}"#) } throws: {
            "\($0)" == "cfg.json: field 'vision_feature_select_strategy': 'cls' is not supported (supported: default, full)"
        }
    }

    @Test func missingFileIsAnError() {
        #expect { try ConfigFile.decode(LlavaConfig.self, path: "/nonexistent/config.json") } throws: {
            "\($0)" == "/nonexistent/config.json: no such file"
        }
    }
}
