#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Errors raised while reading benchmark files or grading responses.
///
/// Every case names the file (or benchmark) and, where there is one, the line or record and the
/// field, so that a broken release folder can be fixed without a debugger.
public enum EvaluationError: Error, Equatable, Sendable {
    /// A file could not be read at all (missing, unreadable, not UTF-8).
    case unreadableFile(file: String, reason: String)
    /// A line or record is not valid JSON / CSV.
    case malformedRecord(file: String, location: String, reason: String)
    /// A required field is absent.
    case missingField(file: String, location: String, field: String)
    /// A field is present but its value is unusable.
    case invalidField(file: String, location: String, field: String, reason: String)
    /// A categorical field holds a value this reader does not know (e.g. an unknown CV-Bench source).
    case unknownType(file: String, location: String, field: String, value: String)
    /// Two records share an id that must be unique.
    case duplicateID(file: String, location: String, id: String)
    /// A question has no matching record in a companion file (answers, annotations, contexts).
    case missingCompanion(file: String, location: String, key: String, companion: String)
    /// A file holds no questions.
    case emptyFile(file: String)
    /// Grading was asked for with no responses.
    case noResponses(benchmark: String)
    /// The same question was answered twice in one grading call.
    case duplicateResponse(benchmark: String, id: String)
    /// A grader needs a question field that the question does not carry (it came from elsewhere).
    case ungradable(benchmark: String, id: String, reason: String)
    /// MMVP: only one question of a pair was answered.
    case incompletePair(benchmark: String, pair: String, missingID: String)
    /// Image files the questions name are not in the data folder.
    case missingImages(benchmark: String, count: Int, examples: [String])
    /// The rendered prompt holds another number of image placeholders than images were given.
    case imagePlaceholders(request: String, placeholders: Int, images: Int)
    /// The prompt alone fills the model's context (`max_position_embeddings`).
    case promptTooLong(request: String, tokens: Int, context: Int)
}

extension EvaluationError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case let .unreadableFile(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .malformedRecord(file, location, reason):
            return "\(file): \(location): malformed: \(reason)"
        case let .missingField(file, location, field):
            return "\(file): \(location): missing field '\(field)'"
        case let .invalidField(file, location, field, reason):
            return "\(file): \(location): field '\(field)': \(reason)"
        case let .unknownType(file, location, field, value):
            return "\(file): \(location): field '\(field)': unknown value '\(value)'"
        case let .duplicateID(file, location, id):
            return "\(file): \(location): duplicate id '\(id)'"
        case let .missingCompanion(file, location, key, companion):
            return "\(file): \(location): no entry for '\(key)' in \(companion)"
        case let .emptyFile(file):
            return "\(file): holds no questions"
        case let .noResponses(benchmark):
            return "\(benchmark): nothing to grade"
        case let .duplicateResponse(benchmark, id):
            return "\(benchmark): question '\(id)' was answered more than once"
        case let .ungradable(benchmark, id, reason):
            return "\(benchmark): question '\(id)': \(reason)"
        case let .incompletePair(benchmark, pair, missingID):
            return "\(benchmark): pair \(pair) is incomplete: no response for question '\(missingID)'"
        case let .missingImages(benchmark, count, examples):
            return "\(benchmark): \(count) image file(s) named by the questions are missing, e.g. "
                + examples.joined(separator: ", ") + " (is --data-root the benchmark's release folder?)"
        case let .imagePlaceholders(request, placeholders, images):
            return "\(request): the prompt holds \(placeholders) image placeholder(s) after templating but \(images) image(s) were given"
        case let .promptTooLong(request, tokens, context):
            return "\(request): the prompt is \(tokens) tokens (image features included) but the model's context "
                + "(max_position_embeddings) is \(context): no room to answer"
        }
    }
}

extension EvaluationError: CustomStringConvertible {
    public var description: String { errorDescription ?? "evaluation error" }
}
