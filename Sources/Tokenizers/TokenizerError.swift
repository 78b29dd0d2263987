#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything that can go wrong while loading a tokenizer from files. Each message names the file
/// and, where there is one, the field that was at fault.
public enum TokenizerError: LocalizedError, Equatable, Sendable {
    /// A file could not be read at all.
    case unreadableFile(file: String, reason: String)
    /// The file is not well-formed JSON.
    case malformedJSON(file: String, reason: String)
    /// A required field is absent.
    case missingField(file: String, field: String)
    /// A field has the wrong JSON type or an impossible value.
    case invalidField(file: String, field: String, reason: String)
    /// A pipeline stage names a `type` this module does not implement.
    case unknownType(file: String, field: String, type: String)
    /// A binary (GGUF) or text (tiktoken) vocabulary file is damaged.
    case malformedVocabulary(file: String, reason: String)

    /// The message, naming file and field.
    public var errorDescription: String? {
        switch self {
        case let .unreadableFile(file, reason):
            return "\(file): cannot read file: \(reason)"
        case let .malformedJSON(file, reason):
            return "\(file): malformed JSON: \(reason)"
        case let .missingField(file, field):
            return "\(file): missing field '\(field)'"
        case let .invalidField(file, field, reason):
            return "\(file): invalid field '\(field)': \(reason)"
        case let .unknownType(file, field, type):
            return "\(file): unknown type '\(type)' in '\(field)'"
        case let .malformedVocabulary(file, reason):
            return "\(file): malformed vocabulary: \(reason)"
        }
    }
}
