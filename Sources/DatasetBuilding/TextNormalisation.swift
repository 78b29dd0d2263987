/// Small text helpers of the dataset stages (no Foundation character sets needed).
enum TextNormalisation {
    /// `s` without leading and trailing white space (Unicode `White_Space`).
    static func trimmed(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }

    /// Lower case, runs of white space as one space, trimmed, trailing `.`/`!` dropped: two
    /// answers equal under this are "the same answer" (they would teach no contrast).
    static func comparable(_ s: String) -> String {
        var out = ""
        var space = false
        for scalar in trimmed(s).lowercased().unicodeScalars {
            if scalar.properties.isWhitespace {
                space = true
                continue
            }
            if space && !out.isEmpty { out += " " }
            space = false
            out.unicodeScalars.append(scalar)
        }
        while let last = out.last, last == "." || last == "!" { out.removeLast() }
        return out
    }

    /// Lower-case letters and digits only: "FineCops-Ref", "finecops_ref" and "FINECOPSREF" agree.
    static func key(_ s: String) -> String {
        String(String.UnicodeScalarView(s.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic || $0.properties.numericType != nil }))
    }
}
