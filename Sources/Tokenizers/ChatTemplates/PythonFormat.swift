/// Python's text conventions that chat templates observe: `repr()` of floats and strings and
/// `str.isspace()`. Templates are rendered by Python in the reference, so these must agree
/// character for character.
enum PythonFormat {
    /// `repr(float)`: shortest round-trip digits, fixed notation when the decimal exponent is in
    /// (-4, 16], otherwise `d.ddde±XX`.
    static func floatRepr(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        // Swift's description already yields the shortest round-trip digits; only the layout
        // differs from Python's, so take the digits and decimal exponent from it.
        var text = Substring(value.description)
        var negative = false
        if text.hasPrefix("-") {
            negative = true
            text = text.dropFirst()
        }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let intPart: Substring
        let fracPart: Substring
        if let dot = text.firstIndex(of: ".") {
            intPart = text[..<dot]
            fracPart = text[text.index(after: dot)...]
        } else {
            intPart = text
            fracPart = ""
        }
        var digits = Array(intPart + fracPart)
        var decpt = intPart.count + exponent
        while let first = digits.first, first == "0" {
            digits.removeFirst()
            decpt -= 1
        }
        while let last = digits.last, last == "0" { digits.removeLast() }
        let sign = negative ? "-" : ""
        if digits.isEmpty { return sign + "0.0" }
        let digitString = String(digits)
        if decpt > -4 && decpt <= 16 {
            if decpt <= 0 {
                return sign + "0." + String(repeating: "0", count: -decpt) + digitString
            }
            if decpt >= digits.count {
                return sign + digitString + String(repeating: "0", count: decpt - digits.count) + ".0"
            }
            return sign + String(digits[..<decpt]) + "." + String(digits[decpt...])
        }
        let exp = decpt - 1
        let mantissa = digits.count > 1 ? String(digits[0]) + "." + String(digits[1...]) : String(digits[0])
        let expDigits = String(abs(exp))
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (expDigits.count < 2 ? "0" + expDigits : expDigits)
    }

    /// `repr(str)`: single quotes unless the text holds a single quote and no double quote;
    /// backslash, the quote, `\n \r \t` and non-printable characters escaped.
    static func stringRepr(_ s: String) -> String {
        var hasSingle = false
        var hasDouble = false
        for u in s.unicodeScalars {
            if u == "'" { hasSingle = true } else if u == "\"" { hasDouble = true }
        }
        let quote: Unicode.Scalar = (hasSingle && !hasDouble) ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for u in s.unicodeScalars {
            switch u {
            case quote, "\\":
                out.append("\\")
                out.append(u)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            default:
                if isPrintable(u) {
                    out.append(u)
                } else {
                    let hex = String(u.value, radix: 16)
                    let (prefix, width) = u.value < 0x100 ? ("\\x", 2) : (u.value < 0x10000 ? ("\\u", 4) : ("\\U", 8))
                    out.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// Python's `str.isprintable()` for one character: everything but categories Cc, Cf, Cs,
    /// Co, Cn, Zl, Zp and Zs (the ASCII space excepted).
    static func isPrintable(_ u: Unicode.Scalar) -> Bool {
        if u == " " { return true }
        switch u.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
            .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    /// Python's `str.isspace()` for one character (what `strip()`/`split()` remove by default).
    @inline(__always)
    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
            0x3000:
            return true
        default:
            return false
        }
    }
}
