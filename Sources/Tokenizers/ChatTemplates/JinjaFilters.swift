#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Jinja's built-in filters that chat templates use, plus HF's `tojson` override.
enum JinjaFilters {
    /// Every filter name accepted; anything else is rejected when the template is parsed, as
    /// jinja2 does at compile time ("No filter named …").
    static let names: Set<String> = [
        "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
        "forceescape", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
        "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string",
        "sum", "title", "tojson", "trim", "unique", "upper", "wordcount",
    ]

    /// Binds a filter argument by position (after the filtered value) or keyword.
    struct Arguments {
        var positional: [JinjaValue]
        var keyword: [(String, JinjaValue)]

        func value(_ i: Int, _ name: String) -> JinjaValue? {
            if i < positional.count { return positional[i] }
            return keyword.first { $0.0 == name }?.1
        }

        func bool(_ i: Int, _ name: String, default d: Bool) -> Bool { value(i, name)?.isTruthy ?? d }
    }

    /// `getattr`-style access by a dotted path (`attribute='a.b'`, `selectattr('x.0')`).
    static func attributeGetter(_ path: JinjaValue) throws -> (JinjaValue) throws -> JinjaValue {
        let parts: [JinjaValue]
        switch path {
        case let .string(s):
            parts = s.split(separator: ".", omittingEmptySubsequences: false).map { part in
                if let i = Int(part) { return .int(i) }
                return .string(String(part))
            }
        case .int: parts = [path]
        default: throw JinjaRuntimeError.message("attribute must be a string, not \(path.typeName)")
        }
        return { value in try parts.reduce(value) { try JinjaLookup.item($0, $1) } }
    }

    static func length(_ value: JinjaValue) throws -> Int {
        switch value {
        case let .string(s): return s.unicodeScalars.count
        case let .list(a), let .tuple(a): return a.count
        case let .dict(d): return d.count
        case .undefined: return 0
        default: throw JinjaRuntimeError.message("object of type '\(value.typeName)' has no len()")
        }
    }

    static func htmlEscape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Sort key that lower-cases strings unless `caseSensitive`, as Jinja's `ignore_case`.
    static func sortKey(_ v: JinjaValue, caseSensitive: Bool) -> JinjaValue {
        if !caseSensitive, case let .string(s) = v { return .string(s.lowercased()) }
        return v
    }

    /// Stable sort with Python ordering; errors propagate.
    static func sorted(_ items: [JinjaValue], key: (JinjaValue) throws -> JinjaValue, reverse: Bool) throws
        -> [JinjaValue]
    {
        let keyed = try items.enumerated().map { ($0.offset, try key($0.element), $0.element) }
        var failure: Error?
        let result = keyed.sorted { a, b in
            do {
                let c = try JinjaOperators.order(a.1, b.1)
                if c != 0 { return reverse ? c > 0 : c < 0 }
            } catch {
                failure = failure ?? error
            }
            return a.0 < b.0
        }
        if let failure { throw failure }
        return result.map(\.2)
    }

    static func tojson(_ value: JinjaValue, _ args: Arguments) throws -> JinjaValue {
        // HF's override: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
        let ensureASCII = args.bool(0, "ensure_ascii", default: false)
        var indent: String?
        switch args.value(1, "indent") {
        case nil, .none?: indent = nil
        case let .string(s)?: indent = s
        case let v?:
            guard case let .int(n)? = v.numericValue else {
                throw JinjaRuntimeError.message("tojson: indent must be an int or a string")
            }
            indent = String(repeating: " ", count: max(n, 0))
        }
        var separators: (String, String)?
        if let s = args.value(2, "separators"), !(s == .none) {
            guard let pair = s.sequenceElements, pair.count == 2, case let .string(a) = pair[0],
                case let .string(b) = pair[1]
            else { throw JinjaRuntimeError.message("tojson: separators must be a pair of strings") }
            separators = (a, b)
        }
        let sortKeys = args.bool(3, "sort_keys", default: false)
        return .string(try value.jsonDumps(ensureASCII: ensureASCII, indent: indent, separators: separators,
                                           sortKeys: sortKeys))
    }

    static func indent(_ value: JinjaValue, _ args: Arguments) throws -> JinjaValue {
        let indention: String
        switch args.value(0, "width") {
        case let .string(s)?: indention = s
        case let v?:
            guard case let .int(n)? = v.numericValue else { throw JinjaRuntimeError.message("indent width must be int") }
            indention = String(repeating: " ", count: max(n, 0))
        case nil: indention = "    "
        }
        let first = args.bool(1, "first", default: false)
        let blank = args.bool(2, "blank", default: false)
        // Jinja appends a newline before splitting so a trailing newline survives.
        let lines = JinjaStrings.splitLines(value.pythonString + "\n")
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indention)
        } else {
            result = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty { result += "\n" + rest.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n") }
        }
        if first { result = indention + result }
        return .string(result)
    }

    static func toInt(_ value: JinjaValue, _ args: Arguments) -> JinjaValue {
        let fallback = args.value(0, "default") ?? .int(0)
        let base: Int
        if case let .int(b)? = args.value(1, "base")?.numericValue { base = b } else { base = 10 }
        switch value {
        case let .bool(b): return .int(b ? 1 : 0)
        case let .int(i): return .int(i)
        case let .double(d):
            guard d.isFinite, abs(d) < 9.2e18 else { return fallback }
            return .int(Int(d))
        case let .string(s):
            let t = JinjaStrings.strip(s, chars: nil, leading: true, trailing: true).replacing("_", with: "")
            if let i = Int(t, radix: base) { return .int(i) }
            if base == 10, let d = Double(t), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
            return fallback
        default: return fallback
        }
    }

    static func toFloat(_ value: JinjaValue, _ args: Arguments) -> JinjaValue {
        let fallback = args.value(0, "default") ?? .double(0)
        switch value {
        case let .bool(b): return .double(b ? 1 : 0)
        case let .int(i): return .double(Double(i))
        case let .double(d): return .double(d)
        case let .string(s):
            let t = JinjaStrings.strip(s, chars: nil, leading: true, trailing: true)
            switch t.lowercased() {
            case "nan", "+nan", "-nan": return .double(.nan)
            case "inf", "+inf", "infinity", "+infinity": return .double(.infinity)
            case "-inf", "-infinity": return .double(-.infinity)
            default: break
            }
            if let d = Double(t) { return .double(d) }
            return fallback
        default: return fallback
        }
    }

    static func round(_ value: JinjaValue, _ args: Arguments) throws -> JinjaValue {
        guard let number = value.numericValue else { throw JinjaRuntimeError.message("round: value must be a number") }
        var precision = 0
        if case let .int(p)? = args.value(0, "precision")?.numericValue { precision = p }
        let method: String
        if case let .string(m)? = args.value(1, "method") { method = m } else { method = "common" }
        let scale = pow(10.0, Double(precision))
        let x = number.asDouble * scale
        let rounded: Double
        switch method {
        case "common": rounded = x.rounded(.toNearestOrEven)
        case "ceil": rounded = x.rounded(.up)
        case "floor": rounded = x.rounded(.down)
        default: throw JinjaRuntimeError.message("method must be common, ceil or floor")
        }
        if method == "common", case .int = number { return value }
        return .double(rounded / scale)
    }
}
