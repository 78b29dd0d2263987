#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything that can go wrong while loading, parsing or rendering a chat template.
///
/// Messages name the template (its file or the name given to ``ChatTemplate/init(source:name:)``)
/// and, where one exists, the 1-based template line, so a user can find the offending tag.
public enum ChatTemplateError: LocalizedError, Equatable, Sendable {
    /// The template source is not valid in the supported Jinja subset (unknown tag, unclosed
    /// block, bad expression, unterminated string …).
    case syntax(template: String, line: Int, message: String)
    /// Rendering failed (undefined variable used as an object, type error, unknown filter …).
    case render(template: String, line: Int, message: String)
    /// The template called `raise_exception(message)`; HF raises `TemplateError(message)` here.
    case raised(template: String, line: Int, message: String)
    /// No chat template could be found in a model folder.
    case notFound(directory: String)
    /// A file that should hold a chat template could not be read or has the wrong shape.
    case invalidFile(path: String, field: String, message: String)
    /// JSON text could not be parsed.
    case invalidJSON(source: String, offset: Int, message: String)

    public var errorDescription: String? {
        switch self {
        case let .syntax(template, line, message):
            return "\(template), line \(line): template syntax error: \(message)"
        case let .render(template, line, message):
            return "\(template), line \(line): template render error: \(message)"
        case let .raised(template, line, message):
            return "\(template), line \(line): raise_exception: \(message)"
        case let .notFound(directory):
            return "no chat template in \(directory): expected chat_template.jinja, chat_template.json "
                + "(key \"chat_template\") or tokenizer_config.json (key \"chat_template\")"
        case let .invalidFile(path, field, message):
            return "\(path): field \"\(field)\": \(message)"
        case let .invalidJSON(source, offset, message):
            return "\(source): invalid JSON at character \(offset): \(message)"
        }
    }
}

/// Internal error raised while evaluating; the interpreter attaches template name and line.
enum JinjaRuntimeError: Error {
    case message(String)
    case raised(String)
}
