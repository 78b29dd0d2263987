#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A comma-separated file with a header row (RFC 4180: quoted fields may hold commas, doubled
/// quotes and line breaks), as MMVP publishes its questions.
struct CSVTable {
    /// Column names from the header row.
    let header: [String]
    /// Data rows with the 1-based line each starts on.
    let rows: [(line: Int, fields: [String])]
    let file: String

    init(contentsOf url: URL) throws {
        let data = try JSONRecords.readData(url)
        guard var text = String(data: data, encoding: .utf8) else {
            throw EvaluationError.unreadableFile(file: url.path, reason: "not UTF-8")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        file = url.path
        var records = try CSVTable.parse(Array(text.unicodeScalars), file: url.path)
        guard !records.isEmpty else { throw EvaluationError.emptyFile(file: url.path) }
        header = records.removeFirst().fields
        for record in records where record.fields.count != header.count {
            throw EvaluationError.malformedRecord(
                file: url.path, location: "line \(record.line)",
                reason: "\(record.fields.count) fields, header has \(header.count)")
        }
        rows = records
        if rows.isEmpty { throw EvaluationError.emptyFile(file: url.path) }
    }

    /// Index of a header column; a missing column is reported against the header line.
    func column(_ name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw EvaluationError.missingField(file: file, location: "line 1 (header)", field: name)
        }
        return index
    }

    private static func parse(_ s: [Unicode.Scalar], file: String) throws -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var fieldStarted = false  // distinguishes a blank line from a record of one empty field
        var i = 0
        func endRecord() {
            if fieldStarted || !fields.isEmpty {
                fields.append(String(field))
                records.append((recordLine, fields))
            }
            fields = []
            field = String.UnicodeScalarView()
            fieldStarted = false
        }
        while i < s.count {
            let c = s[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < s.count, s[i + 1] == "\"" {
                        field.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
            } else {
                switch c {
                case "\"":
                    guard field.isEmpty else {
                        throw EvaluationError.malformedRecord(
                            file: file, location: "line \(line)", reason: "quote inside an unquoted field")
                    }
                    inQuotes = true
                    fieldStarted = true
                case ",":
                    fields.append(String(field))
                    field = String.UnicodeScalarView()
                    fieldStarted = true
                case "\r" where i + 1 < s.count && s[i + 1] == "\n":
                    break  // the LF that follows ends the record
                case "\n":
                    endRecord()
                    line += 1
                    recordLine = line
                default:
                    field.append(c)
                    fieldStarted = true
                }
            }
            i += 1
        }
        if inQuotes {
            throw EvaluationError.malformedRecord(file: file, location: "line \(recordLine)", reason: "unterminated quoted field")
        }
        endRecord()
        return records
    }
}
