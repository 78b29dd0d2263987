/// JSON's spelling of a string, the one escaping rule that svco's JSON writers share (safetensors
/// headers, checkpoint indexes, dataset records, the fake servers' replies): quoted, with quotes,
/// backslashes and control characters escaped, everything else written as UTF-8 text.
public func jsonStringLiteral(_ s: String) -> String {
    var out = ""
    appendJSONStringLiteral(s, to: &out)
    return out
}

/// Appends `jsonStringLiteral(s)` to `out`.
public func appendJSONStringLiteral(_ s: String, to out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    out += "\""
}
