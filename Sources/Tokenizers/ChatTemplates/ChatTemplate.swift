#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The output of ``ChatTemplate/render(messages:addGenerationPrompt:variables:)``.
public struct RenderedChat: Sendable, Equatable {
    /// The rendered prompt text.
    public var text: String
    /// `{% generation %}` spans in Unicode-scalar offsets of `text` (Python str indices), exactly
    /// as transformers' AssistantTracker records them.
    public var generationSpans: [Range<Int>]

    public init(text: String, generationSpans: [Range<Int>]) {
        self.text = text
        self.generationSpans = generationSpans
    }
}

/// A parsed HF chat template (a Jinja subset), rendered the way transformers'
/// `apply_chat_template` renders it: jinja2's ImmutableSandboxedEnvironment with
/// `trim_blocks=True`, `lstrip_blocks=True`, the loop-controls extension, HF's `tojson`,
/// `raise_exception`, `strftime_now` and the `{% generation %}` tag.
///
/// Supported: `for` (with `else`, loop filter, `loop.*`, `break`/`continue`), `if`/`elif`/`else`,
/// `set` (also block form and `namespace` attributes), `macro`/`call`, `filter` and `with`
/// blocks, `raw`, comments, `-`/`+` whitespace control, Python operators and literals, slicing,
/// common string/dict methods and Jinja's built-in filters and tests. Anything else (`include`,
/// `extends`, `import`, recursive loops, unknown filters/tests) is a syntax error naming the line.
public struct ChatTemplate: Sendable {
    /// The template text.
    public let source: String
    /// Name used in error messages (usually the file it came from).
    public let name: String
    let nodes: [JinjaNode]

    /// Parses `source`; syntax errors name `name` and the template line.
    public init(source: String, name: String = "chat_template") throws {
        self.source = source
        self.name = name
        var lexer = JinjaLexer(source: source, templateName: name)
        var parser = JinjaParser(tokens: try lexer.tokenize(), templateName: name)
        self.nodes = try parser.parseTemplate()
    }

    /// Renders a conversation.
    ///
    /// As HF does, the template sees `messages`, `add_generation_prompt`, `tools` and `documents`
    /// (none unless given in `variables`) and every entry of `variables` — pass the tokenizer's
    /// special tokens here (`bos_token`, `eos_token`, `unk_token`, `pad_token`, …).
    public func render(messages: [JinjaValue], addGenerationPrompt: Bool,
                       variables: [String: JinjaValue] = [:]) throws -> RenderedChat {
        var context = JinjaGlobals.all
        context["tools"] = JinjaValue.none
        context["documents"] = JinjaValue.none
        for (k, v) in variables { context[k] = v }
        context["messages"] = .list(messages)
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        let renderer = JinjaRenderer(templateName: name)
        let (text, spans) = try renderer.render(nodes, scope: JinjaScope(parent: nil, variables: context))
        return RenderedChat(text: text, generationSpans: spans)
    }

    /// Loads the chat template of a model folder as transformers 4.57 finds it: the processor's
    /// `chat_template.json` (key "chat_template"; HF's processor prefers this legacy file when
    /// both exist), else `chat_template.jinja`, else `tokenizer_config.json` → "chat_template"
    /// (see ``TokenizerConfig/ChatTemplate``).
    /// - Parameter tokenizerConfig: the folder's already parsed `tokenizer_config.json`
    ///   (`Tokenizer.config`), so it is not read twice; nil reads it here. Its errors are
    ///   ``TokenizerError``s.
    public static func load(modelDirectory: URL, tokenizerConfig: TokenizerConfig? = nil) throws -> ChatTemplate {
        let fm = FileManager.default
        let json = modelDirectory.appendingPathComponent("chat_template.json")
        if fm.fileExists(atPath: json.path) {
            let config: JSONValue
            do {
                config = try JSONValue.parse(Array(try readText(json).utf8))
            } catch let error as JSONParseError {
                throw ChatTemplateError.invalidJSON(source: json.path, offset: error.position, message: error.message)
            }
            guard case let .string(template)? = config["chat_template"] else {
                throw ChatTemplateError.invalidFile(path: json.path, field: "chat_template", message: "missing or not a string")
            }
            return try ChatTemplate(source: template, name: json.path)
        }
        let jinja = modelDirectory.appendingPathComponent("chat_template.jinja")
        if fm.fileExists(atPath: jinja.path) {
            return try ChatTemplate(source: try readText(jinja), name: jinja.path)
        }
        let configPath = modelDirectory.appendingPathComponent("tokenizer_config.json").path
        let config = try tokenizerConfig ?? (fm.fileExists(atPath: configPath) ? TokenizerConfig.read(file: configPath) : nil)
        guard let entry = config?.chatTemplate else { throw ChatTemplateError.notFound(directory: modelDirectory.path) }
        switch entry {
        case let .single(template):
            return try ChatTemplate(source: template, name: configPath)
        case let .named(entries):
            guard let template = entry.defaultTemplate else {
                throw ChatTemplateError.invalidFile(
                    path: configPath, field: "chat_template",
                    message: "several templates (\(entries.map(\.name).joined(separator: ", "))) but none named \"default\"")
            }
            return try ChatTemplate(source: template, name: configPath + " (default)")
        }
    }

    private static func readText(_ url: URL) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ChatTemplateError.invalidFile(path: url.path, field: "(file)", message: "cannot be read: \(error)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
