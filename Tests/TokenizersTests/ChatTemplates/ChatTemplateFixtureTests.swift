import Foundation
import Testing

@testable import Tokenizers

/// Locates and decodes the fixtures written by `Fixtures/chat-templates/make_fixtures.py`.
enum ChatTemplateFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/chat-templates")

    static let templateNames = [
        "llava-1.5", "llava-interleave", "svco-llava-1.5-train", "svco-llava-interleave-train", "llama-2",
        "mistral-v0.1", "mistral-system", "vicuna", "qwen2", "qwen2.5-tools", "features", "generation-first",
    ]

    static func templateSource(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent("templates/\(name).jinja"), encoding: .utf8)
    }

    static func cases(_ name: String) throws -> JinjaDict {
        let text = try String(contentsOf: directory.appendingPathComponent("cases/\(name).json"), encoding: .utf8)
        guard case let .dict(d) = try JinjaValue.parseJSON(text, name: name) else {
            throw FixtureError.malformed("\(name).json is not an object")
        }
        return d
    }

    enum FixtureError: Error { case malformed(String) }
}

extension JinjaValue {
    var listValue: [JinjaValue]? { if case let .list(a) = self { return a } else { return nil } }
    var dictValue: JinjaDict? { if case let .dict(d) = self { return d } else { return nil } }
    var stringValue: String? { if case let .string(s) = self { return s } else { return nil } }
    var intValue: Int? { if case let .int(i) = self { return i } else { return nil } }
    var ranges: [Range<Int>]? {
        listValue?.compactMap { pair -> Range<Int>? in
            guard let p = pair.listValue, p.count == 2, let a = p[0].intValue, let b = p[1].intValue, a <= b else {
                return nil
            }
            return a..<b
        }
    }
}

@Suite("Chat templates match HF apply_chat_template")
struct ChatTemplateFixtureTests {
    @Test("text, generation spans and errors are identical to Python jinja2 via HF", arguments: ChatTemplateFixtures.templateNames)
    func rendersLikeHF(template name: String) throws {
        let template = try ChatTemplate(source: try ChatTemplateFixtures.templateSource(name), name: name)
        let fixture = try ChatTemplateFixtures.cases(name)
        let cases = try #require(fixture["cases"]?.listValue)
        #expect(cases.count >= 20)
        var variables: [String: JinjaValue] = [:]
        for (k, v) in try #require(fixture["variables"]?.dictValue).pairs { variables[k] = v }
        var checked = 0
        for (index, caseValue) in cases.enumerated() {
            let c = try #require(caseValue.dictValue)
            let messages = try #require(c["messages"]?.listValue)
            let addGenerationPrompt = c["add_generation_prompt"] == .bool(true)
            var vars = variables
            if let tools = c["tools"] { vars["tools"] = tools }
            if let expectedError = c["error"]?.stringValue {
                #expect(throws: ChatTemplateError.self, "\(name) case \(index)") {
                    _ = try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, variables: vars)
                }
                do {
                    _ = try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, variables: vars)
                } catch let ChatTemplateError.raised(_, _, message) {
                    #expect(message == expectedError, "\(name) case \(index)")
                }
                checked += 1
                continue
            }
            let rendered = try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                               variables: vars)
            let expectedText = try #require(c["text"]?.stringValue)
            // Byte comparison: Swift's String == would accept canonically equivalent text.
            #expect(rendered.text.utf8.elementsEqual(expectedText.utf8),
                    "\(name) case \(index):\n\(rendered.text)\n--- expected ---\n\(expectedText)")
            #expect(rendered.generationSpans == c["spans"]?.ranges, "\(name) case \(index)")
            checked += 1
        }
        #expect(checked == cases.count)
    }

    @Test("assistantTokenMask reproduces HF masks from the recorded offsets", arguments: ChatTemplateFixtures.templateNames)
    func masksLikeHF(template name: String) throws {
        let fixture = try ChatTemplateFixtures.cases(name)
        let cases = try #require(fixture["cases"]?.listValue)
        var compared = 0
        for (index, caseValue) in cases.enumerated() {
            guard let c = caseValue.dictValue, let tokenized = c["tokenized"]?.dictValue else { continue }
            let spans = try #require(c["spans"]?.ranges)
            for (variant, value) in tokenized.pairs {
                let t = try #require(value.dictValue)
                let ids = try #require(t["ids"]?.listValue)
                let offsets = try #require(t["offsets"]?.ranges)
                let expected = try #require(t["mask"]?.listValue).compactMap(\.intValue)
                #expect(offsets.count == ids.count)
                let mask = assistantTokenMask(offsets: offsets, spans: spans, tokenCount: ids.count)
                #expect(mask == expected, "\(name) case \(index) tokenizer \(variant)")
                // transformers 4.57's processor path (null where HF itself raises IndexError).
                if let processorExpected = t["processor_mask"]?.listValue?.compactMap(\.intValue) {
                    let processorMask = processorAssistantTokenMask(offsets: offsets, spans: spans, tokenCount: ids.count)
                    #expect(processorMask == processorExpected, "\(name) case \(index) tokenizer \(variant) (processor)")
                }
                compared += 1
            }
        }
        let hasGeneration = try ChatTemplateFixtures.templateSource(name).contains(/\{%-?\s*generation\s*-?%\}/)
        // Templates with generation blocks must actually have been compared.
        #expect(hasGeneration == (compared > 0))
    }
}
