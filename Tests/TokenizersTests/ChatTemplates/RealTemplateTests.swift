import Foundation
import Testing

@testable import Tokenizers

/// Real Hugging Face chat templates (llama.cpp's collection, fetched by
/// `scripts/fetch-assets/templates.sh`) render exactly as transformers 4.57 renders them
/// (`Fixtures/chat-templates/make_real_fixtures.py`). A missing asset is a failure, not a skip.
@Suite("Real HF chat templates")
struct RealTemplateTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let assets = repositoryRoot.appendingPathComponent(".deps/test-assets/chat-templates")

    static func fnv1a64(_ bytes: Data) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Templates outside the supported subset, with the reason.
    static let knownUnsupported = [
        "ByteDance-Seed-OSS.jinja": "dict literal with integer keys (only string keys are supported)",
    ]

    @Test("every template renders byte-identically to HF, errors included")
    func realTemplates() throws {
        let fixture = try ChatTemplateFixtures.cases("real-templates")
        let conversations = try #require(fixture["conversations"]?.listValue)
        var variables: [String: JinjaValue] = [:]
        for (k, v) in try #require(fixture["variables"]?.dictValue).pairs { variables[k] = v }
        // The same fixed clock the fixture script passed instead of the real date.
        variables["strftime_now"] = .function(JinjaFunction(name: "strftime_now") { args, _ in
            .string("DATE(" + (args.first?.pythonString ?? "") + ")")
        })
        let templates = try #require(fixture["templates"]?.listValue)
        #expect(templates.count >= 60)
        var rendered = 0
        for entry in templates {
            let t = try #require(entry.dictValue)
            let file = try #require(t["file"]?.stringValue)
            let url = Self.assets.appendingPathComponent(file)
            let data = try #require(
                try? Data(contentsOf: url), "missing \(url.path): run scripts/fetch-test-assets")
            #expect(data.count == t["bytes"]?.intValue, "\(file) changed")
            #expect(Self.fnv1a64(data) == t["fnv1a64"]?.stringValue, "\(file) changed")
            let cases = try #require(t["cases"]?.listValue)
            let template: ChatTemplate
            do {
                template = try ChatTemplate(source: String(decoding: data, as: UTF8.self), name: file)
            } catch let ChatTemplateError.syntax(_, _, message) {
                // jinja2 rejects these at compile time too (e.g. an unknown filter).
                let pythonMessages = cases.compactMap { $0.dictValue?["error"] == "syntax" ? $0.dictValue?["message"]?.stringValue : nil }
                #expect(pythonMessages.count == cases.count, "\(file): \(message)")
                #expect(pythonMessages.allSatisfy { $0.hasPrefix(message) }, "\(file): \(message) vs \(pythonMessages)")
                continue
            }
            if Self.knownUnsupported.keys.contains(file) {
                // Must keep failing with a clear error rather than render something wrong.
                #expect(throws: ChatTemplateError.self, "\(file)") {
                    _ = try template.render(messages: [["role": "user", "content": "x"]], addGenerationPrompt: false,
                                            variables: variables)
                }
                continue
            }
            for caseValue in cases {
                let c = try #require(caseValue.dictValue)
                let conversationIndex = try #require(c["conversation"]?.intValue)
                let conversation = try #require(conversations[conversationIndex].dictValue)
                let messages = try #require(conversation["messages"]?.listValue)
                let addGenerationPrompt = conversation["add_generation_prompt"] == .bool(true)
                let label = "\(file) conversation \(c["conversation"]?.intValue ?? -1)"
                if let kind = c["error"]?.stringValue {
                    let message = c["message"]?.stringValue ?? ""
                    do {
                        _ = try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                                variables: variables)
                        Issue.record("\(label): HF raised \(kind) '\(message)' but Swift rendered")
                    } catch let ChatTemplateError.raised(_, _, swiftMessage) {
                        #expect(kind == "raised" && swiftMessage == message, "\(label)")
                    } catch let ChatTemplateError.render(_, _, swiftMessage) {
                        // Python prefixes the exception type ("TypeError: …"); compare the rest.
                        let core = message.split(separator: ":", maxSplits: 1).last.map(String.init) ?? message
                        #expect(kind == "render", "\(label)")
                        #expect(swiftMessage.contains(core.trimmingCharacters(in: .whitespaces)),
                                "\(label): \(swiftMessage) vs \(message)")
                    }
                    continue
                }
                let expected = try #require(c["text"]?.stringValue)
                let got: RenderedChat
                do {
                    got = try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                              variables: variables)
                } catch {
                    Issue.record("\(label): \(error.localizedDescription)")
                    continue
                }
                #expect(got.text.utf8.elementsEqual(expected.utf8),
                        "\(label):\n\(got.text)\n--- expected ---\n\(expected)")
                rendered += 1
            }
        }
        #expect(rendered >= 200)
    }
}
