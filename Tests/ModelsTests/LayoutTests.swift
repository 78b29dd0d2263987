import Testing
@testable import Models

@Suite struct LayoutTests {
    @Test func detectsAndMapsBothLayouts() throws {
        let published = ["vision_tower.vision_model.embeddings.patch_embedding.weight", "multi_modal_projector.linear_1.weight",
                         "language_model.model.layers.0.self_attn.q_proj.weight", "language_model.lm_head.weight"]
        let nested = ["model.vision_tower.vision_model.embeddings.patch_embedding.weight", "model.multi_modal_projector.linear_1.weight",
                      "model.language_model.layers.0.self_attn.q_proj.weight", "lm_head.weight"]
        #expect(try CheckpointLayout.detect(published, source: "x") == .published)
        let layout = try CheckpointLayout.detect(nested, source: "x")
        #expect(layout == .nested)
        #expect(nested.map(layout.publishedName) == published)
        #expect(CheckpointLayout.published.publishedName("lm_head.weight") == "lm_head.weight")
        #expect { try CheckpointLayout.detect(published + ["lm_head.weight"], source: "dir") } throws: {
            "\($0)".contains("dir") && "\($0)".contains("mixes the nested layout ('lm_head.weight')")
        }
    }
}
