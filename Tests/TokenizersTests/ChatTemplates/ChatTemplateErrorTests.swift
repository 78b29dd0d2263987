import Foundation
import Testing

@testable import Tokenizers

@Suite("Chat template errors")
struct ChatTemplateErrorTests {
    /// The (kind, line, message) of the error `body` throws, or nil.
    func failure(_ body: () throws -> Void) -> (String, Int, String)? {
        do {
            try body()
        } catch let error as ChatTemplateError {
            switch error {
            case let .syntax(_, line, message): return ("syntax", line, message)
            case let .render(_, line, message): return ("render", line, message)
            case let .raised(_, line, message): return ("raised", line, message)
            default: return ("other", 0, error.localizedDescription)
            }
        } catch {
            return ("foreign", 0, "\(error)")
        }
        return nil
    }

    func parse(_ source: String) -> (String, Int, String)? {
        failure { _ = try ChatTemplate(source: source, name: "bad.jinja") }
    }

    func render(_ source: String, messages: [JinjaValue] = []) -> (String, Int, String)? {
        failure {
            _ = try ChatTemplate(source: source, name: "bad.jinja").render(messages: messages, addGenerationPrompt: false)
        }
    }

    @Test("syntax errors name the template line", arguments: [
        ("ok\n{% include 'x.jinja' %}", 2, "unknown tag 'include'"),
        ("a\nb\n{{ x | nosuchfilter }}", 3, "No filter named 'nosuchfilter'"),
        ("{% for x in [] %}{% if true %}{% endif %}{{ x is nosuchtest }}{% endfor %}", 1, "No test named 'nosuchtest'"),
        ("{% if true %}{% for x in [] %}\n{{ x | nosuch }}{% endfor %}{% endif %}", 2, "No filter named 'nosuch'."),
        ("line1\n{% for m in messages %}\n{{ m }}\n", 2, "'for' block opened on line 2 is never closed"),
        ("{% if true %}\n{% else %}\n", 1, "'if' block opened on line 1"),
        ("{% endfor %}", 1, "unknown tag 'endfor'"),
        ("\n\n{{ 'abc }}", 3, "unexpected char"),
        ("x\n{{ a +", 2, "not closed"),
        ("x\n{# never closed", 2, "Missing end of comment tag"),
        ("{% raw %}abc", 1, "Missing end of raw directive"),
        ("{{ (1 }}", 1, "unexpected '}'"),
        ("{% for x in y recursive %}{% endfor %}", 1, "recursive"),
        ("{% set %}", 1, "expected"),
        ("{{ a b }}", 1, "expected end of print statement"),
        // Hostile nesting is an error, not a stack overflow.
        (String(repeating: "{{ (", count: 1) + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5001) + " }}", 1, "nesting deeper"),
        (String(repeating: "{% if true %}", count: 500), 1, "nesting deeper"),
        ("{{ " + String(repeating: "not ", count: 5000) + "x }}", 1, "nesting deeper"),
    ])
    func syntaxErrors(source: String, line: Int, fragment: String) throws {
        let error = try #require(parse(source))
        #expect(error.0 == "syntax")
        #expect(error.1 == line, "\(error)")
        #expect(error.2.contains(fragment), "\(error)")
    }

    @Test("raise_exception surfaces its message and line")
    func raiseException() throws {
        let source = "{% for m in messages %}\n{% if m.role != 'user' %}\n{{ raise_exception('Roles must alternate: got ' ~ m.role) }}\n{% endif %}{% endfor %}"
        let error = try #require(render(source, messages: [["role": "user"], ["role": "tool"]]))
        #expect(error.0 == "raised")
        #expect(error.1 == 3)
        #expect(error.2 == "Roles must alternate: got tool")
        let description = ChatTemplateError.raised(template: "bad.jinja", line: 3, message: "m").errorDescription ?? ""
        #expect(description.contains("bad.jinja") && description.contains("line 3") && description.contains("m"))
    }

    @Test("runtime errors name the line", arguments: [
        ("a\n{{ 'a' + 1 }}", 2, "can only concatenate str"),
        ("{{ foo.bar }}", 1, "'foo' is undefined"),
        ("\n{{ [].append(1) }}", 2, "unsafe"),
        ("{{ 1 / 0 }}", 1, "division by zero"),
        ("{{ 1 < 'a' }}", 1, "not supported between"),
        ("{% for x in 5 %}{% endfor %}", 1, "not iterable"),
        ("{{ range(1000000) | length }}", 1, "Range too big"),
        ("{{ '{0.x}'.format(1) }}", 1, "is not supported"),
        ("{{ x() }}", 1, "'x' is undefined"),
        ("{% set a, b = [1] %}", 1, "not enough values to unpack"),
        ("{{ messages.nope.deeper }}", 1, "has no attribute 'nope'"),
        ("{{ 9223372036854775807 + 1 }}", 1, "overflow"),
        ("{{ {'a': x} | tojson }}", 1, "not JSON serializable"),
        ("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}", 1, "too deep"),
        // Inside if blocks jinja2 defers unknown filters/tests to run time.
        ("{% if true %}\n{{ 1 | nosuch }}{% endif %}", 2, "No filter named 'nosuch' found."),
        ("{{ 2 if x is nosuch else 3 }}", 1, "No test named 'nosuch' found."),
    ])
    func runtimeErrors(source: String, line: Int, fragment: String) throws {
        let error = try #require(render(source))
        #expect(error.0 == "render", "\(error)")
        #expect(error.1 == line, "\(error)")
        #expect(error.2.contains(fragment), "\(error)")
    }
}

@Suite("Loading chat templates from model folders")
struct ChatTemplateLoadTests {
    func folder(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svco-chat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    func rendered(_ dir: URL) throws -> String {
        try ChatTemplate.load(modelDirectory: dir).render(messages: [], addGenerationPrompt: false).text
    }

    @Test("chat_template.json, then chat_template.jinja, then tokenizer_config.json")
    func precedence() throws {
        let all = try folder([
            "chat_template.json": #"{"chat_template": "from json"}"#,
            "chat_template.jinja": "from jinja\n",
            "tokenizer_config.json": #"{"chat_template": "from config"}"#,
        ])
        defer { try? FileManager.default.removeItem(at: all) }
        #expect(try rendered(all) == "from json")
        let jinja = try folder(["chat_template.jinja": "from jinja\n", "tokenizer_config.json": #"{"chat_template": "c"}"#])
        defer { try? FileManager.default.removeItem(at: jinja) }
        #expect(try rendered(jinja) == "from jinja")
        let config = try folder(["tokenizer_config.json": #"{"bos_token": "<s>", "chat_template": "from {{ 'config' }}"}"#])
        defer { try? FileManager.default.removeItem(at: config) }
        #expect(try rendered(config) == "from config")
    }

    @Test("tokenizer_config.json with a list of named templates picks \"default\"")
    func namedTemplates() throws {
        let dir = try folder(["tokenizer_config.json":
            #"{"chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "plain"}]}"#])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try rendered(dir) == "plain")
        let noDefault = try folder(["tokenizer_config.json": #"{"chat_template": [{"name": "rag", "template": "r"}]}"#])
        defer { try? FileManager.default.removeItem(at: noDefault) }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate.load(modelDirectory: noDefault) }
    }

    @Test("a folder without a template is an error naming it")
    func missing() throws {
        let dir = try folder(["tokenizer_config.json": #"{"bos_token": "<s>"}"#])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: ChatTemplateError.notFound(directory: dir.path)) { try ChatTemplate.load(modelDirectory: dir) }
        let description = ChatTemplateError.notFound(directory: dir.path).errorDescription ?? ""
        #expect(description.contains(dir.path))
    }

    @Test("malformed files are errors naming the file")
    func malformed() throws {
        let badJSON = try folder(["chat_template.json": #"{"chat_template": "#])
        defer { try? FileManager.default.removeItem(at: badJSON) }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate.load(modelDirectory: badJSON) }
        let wrongType = try folder(["chat_template.json": #"{"chat_template": 3}"#])
        defer { try? FileManager.default.removeItem(at: wrongType) }
        do {
            _ = try ChatTemplate.load(modelDirectory: wrongType)
            Issue.record("expected an error")
        } catch let ChatTemplateError.invalidFile(path, field, _) {
            #expect(path.hasSuffix("chat_template.json"))
            #expect(field == "chat_template")
        }
        let badTemplate = try folder(["chat_template.jinja": "ok\n{% unknown %}"])
        defer { try? FileManager.default.removeItem(at: badTemplate) }
        do {
            _ = try ChatTemplate.load(modelDirectory: badTemplate)
            Issue.record("expected an error")
        } catch let ChatTemplateError.syntax(template, line, _) {
            #expect(template.hasSuffix("chat_template.jinja"))
            #expect(line == 2)
        }
    }
}
