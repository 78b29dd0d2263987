#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DecodingDiagnostics

/// Reading of the JSON and JSON-lines files benchmarks publish, with errors that name the file,
/// the line (or array element) and the field.
enum JSONRecords {
    /// Reads a whole file; a missing or unreadable file is an ``EvaluationError/unreadableFile``.
    static func readData(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "\(error)" : "no such file"
            throw EvaluationError.unreadableFile(file: url.path, reason: reason)
        }
    }

    /// Decodes every non-blank line of a JSON-lines file; returns each record with its 1-based line.
    static func decodeLines<T: Decodable>(_ type: T.Type, from url: URL) throws -> [(line: Int, value: T)] {
        let data = try readData(url)
        let decoder = JSONDecoder()
        var records: [(line: Int, value: T)] = []
        var lineNumber = 0
        var start = data.startIndex
        // Split on LF bytes: JSON strings cannot hold a raw LF, so this never cuts a record.
        while start < data.endIndex {
            lineNumber += 1
            let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            let line = data[start..<end]
            start = end < data.endIndex ? data.index(after: end) : end
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                records.append((lineNumber, try decoder.decode(T.self, from: line)))
            } catch let error as DecodingError {
                throw translate(error, file: url.path, location: "line \(lineNumber)")
            }
        }
        if records.isEmpty { throw EvaluationError.emptyFile(file: url.path) }
        return records
    }

    /// Decodes a whole JSON document.
    static func decodeDocument<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data = try readData(url)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw translate(error, file: url.path, location: "document")
        }
    }

    /// Turns a decoding error into one that names the field and, inside an array, the record
    /// (1-based, like line numbers; the field is then the part inside that record).
    static func translate(_ error: DecodingError, file: String, location: String) -> EvaluationError {
        let failure = DecodingFailure(error)
        var place = location
        var fieldStart = 0
        if let last = failure.path.lastIndex(where: { if case .index = $0 { true } else { false } }),
           case let .index(i) = failure.path[last] {
            place = "record \(i + 1)"
            fieldStart = last + 1
        }
        let field = failure.field(from: fieldStart)
        switch failure.kind {
        case .missing:
            return .missingField(file: file, location: place, field: field)
        case .null, .wrongType:
            return .invalidField(file: file, location: place, field: field, reason: failure.detail)
        case .invalid:
            if field.isEmpty { return .malformedRecord(file: file, location: place, reason: failure.detail) }
            return .invalidField(file: file, location: place, field: field, reason: failure.detail)
        }
    }
}

/// A JSON value that may be a string or an integer (benchmarks disagree on id types); decodes
/// to its decimal text.
struct StringOrInt: Decodable, Sendable {
    let text: String
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            text = String(value)
        } else {
            text = try container.decode(String.self)
        }
    }
}
