import JSONLiteral
import Tokenizers

/// JSON text for a parsed ``JSONValue``, so records are written back with every field, in its
/// order, as it was read (numbers by value: `1.50` comes back as `1.5`).
///
/// Pretty-printed with two-space indents like Python's `json.dump(indent=2, ensure_ascii=False)`;
/// non-ASCII text is written as UTF-8, control characters as escapes.
enum JSONText {
    static func render(_ value: JSONValue, indent: Int = 0, into out: inout String) {
        switch value {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .integer(i): out += String(i)
        case let .number(d): out += number(d)
        case let .string(s): string(s, into: &out)
        case let .array(items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                render(item, indent: indent + 2, into: &out)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case let .object(members):
            if members.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (key, item)) in members.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                string(key, into: &out)
                out += ": "
                render(item, indent: indent + 2, into: &out)
                out += i + 1 < members.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    /// The whole document, with a final newline.
    static func document(_ value: JSONValue) -> [UInt8] {
        var out = ""
        render(value, into: &out)
        out += "\n"
        return Array(out.utf8)
    }

    /// One line (no newlines inside), for JSON-lines files.
    static func line(_ members: [(String, JSONValue)]) -> String {
        var out = "{"
        for (i, (key, value)) in members.enumerated() {
            if i > 0 { out += ", " }
            string(key, into: &out)
            out += ": "
            render(value, into: &out)  // only flat values are passed here
        }
        return out + "}"
    }

    /// Swift's shortest round-trip spelling, which is valid JSON for finite values ("1e-05" too);
    /// integral values keep a ".0" so they read back as numbers with a fraction, as written.
    static func number(_ d: Double) -> String {
        precondition(d.isFinite, "JSON has no spelling for \(d)")
        return "\(d)"
    }

    static func string(_ s: String, into out: inout String) { appendJSONStringLiteral(s, to: &out) }
}
