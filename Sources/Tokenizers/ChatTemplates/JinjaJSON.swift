/// JSON in and out of ``JinjaValue``: reading keeps object key order (Python's `json.loads`
/// does, and templates iterate keys), writing reproduces Python's `json.dumps` byte for byte,
/// which is what HF's `tojson` filter calls.
extension JinjaValue {
    /// Parses JSON text (objects become ordered ``JinjaDict``s, integers `.int`, other numbers
    /// `.double`) with the module's one JSON parser (``JSONValue``). `name` labels errors.
    public static func parseJSON(_ text: String, name: String = "JSON") throws -> JinjaValue {
        do {
            return JinjaValue(json: try JSONValue.parse(Array(text.utf8)))
        } catch {
            throw ChatTemplateError.invalidJSON(source: name, offset: error.position, message: error.message)
        }
    }

    /// The template value of a parsed JSON value; a repeated object key keeps its first place
    /// and its last value, as Python's `json.loads` builds a dict.
    init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case let .bool(b): self = .bool(b)
        case let .integer(i): self = .int(i)
        case let .number(d): self = .double(d)
        case let .string(s): self = .string(s)
        case let .array(items): self = .list(items.map(JinjaValue.init(json:)))
        case let .object(members):
            var dict = JinjaDict()
            for (key, value) in members { dict[key] = JinjaValue(json: value) }
            self = .dict(dict)
        }
    }

    /// Python `json.dumps(self, ensure_ascii=, indent=, separators=, sort_keys=)`.
    /// `indent` is nil (one line) or the indentation string.
    func jsonDumps(
        ensureASCII: Bool = false, indent: String? = nil, separators: (String, String)? = nil,
        sortKeys: Bool = false
    ) throws -> String {
        let seps = separators ?? (indent == nil ? (", ", ": ") : (",", ": "))
        var out = ""
        try JSONWriter(ensureASCII: ensureASCII, indent: indent, itemSeparator: seps.0, keySeparator: seps.1,
                       sortKeys: sortKeys).write(self, level: 0, into: &out)
        return out
    }
}

private struct JSONWriter {
    let ensureASCII: Bool
    let indent: String?
    let itemSeparator: String
    let keySeparator: String
    let sortKeys: Bool

    func write(_ value: JinjaValue, level: Int, into out: inout String) throws {
        switch value {
        case .none: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else {
                out += PythonFormat.floatRepr(d)
            }
        case let .string(s): writeString(s, into: &out)
        case let .list(items), let .tuple(items):
            if items.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(level + 1, into: &out)
                try write(item, level: level + 1, into: &out)
            }
            newline(level, into: &out)
            out += "]"
        case let .dict(d):
            if d.isEmpty {
                out += "{}"
                return
            }
            out += "{"
            let keys = sortKeys ? d.keys.sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) } : d.keys
            for (i, key) in keys.enumerated() {
                if i > 0 { out += itemSeparator }
                newline(level + 1, into: &out)
                writeString(key, into: &out)
                out += keySeparator
                try write(d[key] ?? .none, level: level + 1, into: &out)
            }
            newline(level, into: &out)
            out += "}"
        case .undefined, .namespace, .loop, .function, .macro:
            throw JinjaRuntimeError.message("Object of type \(value.typeName) is not JSON serializable")
        }
    }

    private func newline(_ level: Int, into out: inout String) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    private func writeString(_ s: String, into out: inout String) {
        var scalars = String.UnicodeScalarView()
        scalars.append("\"")
        func hex4(_ v: UInt32) {
            let h = String(v, radix: 16)
            scalars.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - h.count) + h).unicodeScalars)
        }
        for u in s.unicodeScalars {
            switch u {
            case "\"": scalars.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": scalars.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": scalars.append(contentsOf: "\\n".unicodeScalars)
            case "\r": scalars.append(contentsOf: "\\r".unicodeScalars)
            case "\t": scalars.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": scalars.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": scalars.append(contentsOf: "\\f".unicodeScalars)
            default:
                if u.value < 0x20 {
                    hex4(u.value)
                } else if ensureASCII && u.value > 0x7E {
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        hex4(0xD800 + (v >> 10))
                        hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        hex4(u.value)
                    }
                } else {
                    scalars.append(u)
                }
            }
        }
        scalars.append("\"")
        out += String(scalars)
    }
}
