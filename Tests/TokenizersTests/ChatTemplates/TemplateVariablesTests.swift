import Foundation
import Testing
@testable import Tokenizers

@Suite struct TemplateVariablesTests {
    /// transformers passes `special_tokens_map` (the declared ones only) to every chat template.
    @Test func declaredSpecialTokensOnly() throws {
        let qwen = try Tokenizer(directory: TestSupport.fixtures.appendingPathComponent("tiny/qwen2").path)
        #expect(qwen.templateVariables == ["eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"])
        var config = qwen.config
        config.additionalSpecialTokens = [.init(content: "<x>"), .init(content: "<y>")]
        config.bosToken = .init(content: "<s>")
        let json = try Tokenizer.readJSON(TestSupport.fixtures.appendingPathComponent("tiny/qwen2/tokenizer.json").path)
        let more = try Tokenizer(tokenizerJSON: json, config: config)
        #expect(more.templateVariables["additional_special_tokens"] == .list(["<x>", "<y>"]))
        #expect(more.templateVariables["bos_token"] == "<s>")
    }

    /// tokenizer_config.json's "chat_template" is read by one rule for the tokenizer and the
    /// template loader: a string, or `{name, template}` entries of which the last "default" wins.
    @Test func namedTemplatesKeepOrderAndLastDefaultWins() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svco-named-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("tokenizer_config.json")
        try #"{"chat_template": [{"name": "default", "template": "first"}, {"name": "rag", "template": "r"}, {"name": "default", "template": "last"}]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let config = try TokenizerConfig.read(file: file.path)
        guard case let .named(entries)? = config.chatTemplate else { Issue.record("not a list"); return }
        #expect(entries.map(\.name) == ["default", "rag", "default"])
        #expect(config.chatTemplate?.defaultTemplate == "last")
        #expect(try ChatTemplate.load(modelDirectory: dir).source == "last")
        // A config handed in is used instead of the file (here: one without a template).
        #expect(throws: ChatTemplateError.notFound(directory: dir.path)) {
            try ChatTemplate.load(modelDirectory: dir, tokenizerConfig: TokenizerConfig())
        }
    }
}
