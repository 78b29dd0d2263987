/// Python's `float(text)` for the judge-score parsers, which the official scripts run on the
/// judge's reply: surrounding whitespace is ignored, then an optional sign and a decimal literal
/// (digits with single underscores between them, an optional fraction and exponent) or
/// inf/infinity/nan in any case. Anything else is not a number (nil), as `float()` would raise.
enum PythonFloat {
    static func parse<S: StringProtocol>(_ text: S) -> Double? {
        let scalars = Array(PythonText.strip(Array(text.unicodeScalars)))
        guard !scalars.isEmpty else { return nil }
        var i = 0
        var negative = false
        if scalars[0] == "+" || scalars[0] == "-" {
            negative = scalars[0] == "-"
            i = 1
        }
        let rest = String(String.UnicodeScalarView(scalars[i...])).lowercased()
        if rest == "inf" || rest == "infinity" { return negative ? -.infinity : .infinity }
        if rest == "nan" { return .nan }

        var literal = negative ? "-" : ""
        // Digit runs: underscores only between two digits.
        func digits() -> Int {
            var count = 0
            while i < scalars.count {
                let c = scalars[i]
                if ("0"..."9").contains(c) {
                    literal.unicodeScalars.append(c)
                    count += 1
                    i += 1
                } else if c == "_", count > 0, i + 1 < scalars.count, ("0"..."9").contains(scalars[i + 1]) {
                    i += 1
                } else {
                    break
                }
            }
            return count
        }
        let whole = digits()
        var fraction = 0
        if i < scalars.count, scalars[i] == "." {
            literal += "."
            i += 1
            fraction = digits()
        }
        guard whole + fraction > 0 else { return nil }
        if i < scalars.count, scalars[i] == "e" || scalars[i] == "E" {
            literal += "e"
            i += 1
            if i < scalars.count, scalars[i] == "+" || scalars[i] == "-" {
                literal.unicodeScalars.append(scalars[i])
                i += 1
            }
            guard digits() > 0 else { return nil }
        }
        guard i == scalars.count else { return nil }
        if literal.hasSuffix(".") { literal += "0" }
        if literal.hasPrefix(".") || literal.hasPrefix("-.") { literal = literal.replacingFirst(".", with: "0.") }
        return Double(literal)
    }

    /// Python's `round(x, digits)` for the values the summaries round: half to even on the
    /// decimal scale (exact ties are rare for means of small integers; see the tests).
    static func round(_ x: Double, _ digits: Int) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (x * scale).rounded(.toNearestOrEven) / scale
    }
}

extension String {
    fileprivate func replacingFirst(_ old: Character, with new: String) -> String {
        guard let at = firstIndex(of: old) else { return self }
        return String(self[..<at]) + new + String(self[index(after: at)...])
    }
}
