import Foundation
import Testing

@testable import Tokenizers

/// The S-VCO training templates (SVCO-SPEC §2): six sequences per record, generation spans as
/// the reference's llava-hf templates mark them. Expected strings are written out by hand.
@Suite("S-VCO training templates")
struct TrainingTemplateTests {
    @Test("the shipped sources are the fixture files HF rendered")
    func sourcesMatchFixtures() throws {
        #expect(try ChatTemplateFixtures.templateSource("svco-llava-1.5-train") == ChatTemplate.svcoLLaVA15TrainingSource)
        #expect(try ChatTemplateFixtures.templateSource("svco-llava-interleave-train")
            == ChatTemplate.svcoLLaVAInterleaveTrainingSource)
    }

    /// [system (if non-empty)], user = instruction then one image part per image, assistant = response.
    static func conversation(system: String, instruction: String, images: Int, response: String) -> [JinjaValue] {
        var messages: [JinjaValue] = []
        if !system.isEmpty { messages.append(["role": "system", "content": [["type": "text", "text": .string(system)]]]) }
        var user: [JinjaValue] = [["type": "text", "text": .string(instruction)]]
        user += Array(repeating: ["type": "image"], count: images)
        messages.append(["role": "user", "content": .list(user)])
        messages.append(["role": "assistant", "content": [["type": "text", "text": .string(response)]]])
        return messages
    }

    static func scalarRange(of needle: String, in text: String) -> Range<Int>? {
        let hay = Array(text.unicodeScalars)
        guard let start = JinjaStrings.find(hay, Array(needle.unicodeScalars), from: 0) else { return nil }
        return start..<start + needle.unicodeScalars.count
    }

    @Test("LLaVA-1.5: USER: <image>\\n… ASSISTANT: answer, span = answer plus its space",
          arguments: [("", 1), ("", 0), ("Look closely.", 1), ("Look closely.", 0), ("", 2)])
    func llava15(system: String, images: Int) throws {
        let template = try ChatTemplate.svcoLLaVA15Training()
        let response = "The ball is left of the cup."
        let rendered = try template.render(
            messages: Self.conversation(system: system, instruction: "Where is the ball?", images: images,
                                        response: response),
            addGenerationPrompt: false, variables: ["bos_token": "<s>", "eos_token": "</s>"])
        let prefix = system.isEmpty ? "" : system + " "
        let expected = prefix + "USER: " + String(repeating: "<image>\n", count: images)
            + "Where is the ball? ASSISTANT: The ball is left of the cup. "
        #expect(rendered.text == expected)
        #expect(rendered.generationSpans == [try #require(Self.scalarRange(of: response + " ", in: expected))])
    }

    @Test("LLaVA-Interleave: ChatML, span = newline after <|im_start|>assistant plus the answer",
          arguments: [("", 1), ("", 0), ("Look closely.", 1), ("Look closely.", 0), ("", 2)])
    func interleave(system: String, images: Int) throws {
        let template = try ChatTemplate.svcoLLaVAInterleaveTraining()
        let response = "Right of the cup 😀."
        let rendered = try template.render(
            messages: Self.conversation(system: system, instruction: "Where is the ball?", images: images,
                                        response: response),
            addGenerationPrompt: false)
        let systemPart = system.isEmpty ? "" : "<|im_start|>system \n" + system + "<|im_end|>"
        let expected = systemPart + "<|im_start|>user " + String(repeating: "<image>", count: images)
            + "\nWhere is the ball?<|im_end|><|im_start|>assistant \nRight of the cup 😀.<|im_end|>"
        #expect(rendered.text == expected)
        let span = try #require(rendered.generationSpans.first)
        #expect(rendered.generationSpans.count == 1)
        let scalars = Array(rendered.text.unicodeScalars)
        #expect(String(String.UnicodeScalarView(scalars[span])) == "\n" + response)
        #expect(String(String.UnicodeScalarView(scalars[..<span.lowerBound])).hasSuffix("<|im_start|>assistant "))
    }

    @Test("generation prompts for evaluation")
    func generationPrompts() throws {
        let user: [JinjaValue] = [["role": "user", "content": [["type": "image"], ["type": "text", "text": "Q?"]]]]
        #expect(try ChatTemplate.svcoLLaVA15Training().render(messages: user, addGenerationPrompt: true).text
            == "USER: <image>\nQ? ASSISTANT:")
        #expect(try ChatTemplate.svcoLLaVAInterleaveTraining().render(messages: user, addGenerationPrompt: true).text
            == "<|im_start|>user <image>\nQ?<|im_end|><|im_start|>assistant\n")
    }
}
