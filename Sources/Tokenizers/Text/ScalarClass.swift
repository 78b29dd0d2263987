/// The character classes the split patterns use: `\p{L}`, `\p{N}`, `\s` (White_Space, as
/// Oniguruma defines `\s` for Unicode) and everything else.
enum ScalarClass: UInt8 {
    case other = 0, letter = 1, number = 2, whitespace = 3

    /// Looks a scalar up; the Basic Multilingual Plane comes from a table built once, because
    /// stdlib property queries are too slow for the hot loop of the pre-tokenizer.
    @inline(__always) static func of(_ s: Unicode.Scalar) -> ScalarClass {
        let v = s.value
        if v < 0x10000 {
            return ScalarClass(rawValue: bmpTable[Int(v)]) ?? .other
        }
        return compute(s)
    }

    static func compute(_ s: Unicode.Scalar) -> ScalarClass {
        let p = s.properties
        if p.isWhitespace { return .whitespace }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    static let bmpTable: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x10000)
        for v in 0..<0x10000 {
            if let s = Unicode.Scalar(UInt32(v)) { table[v] = compute(s).rawValue }
        }
        return table
    }()
}

/// White_Space test as Rust's `char::is_whitespace` (used by HF for lstrip/rstrip and Strip).
@inline(__always) func isWhitespace(_ s: Unicode.Scalar) -> Bool {
    ScalarClass.of(s) == .whitespace
}
