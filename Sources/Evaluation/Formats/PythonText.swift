/// String operations with Python 3 `str` semantics (code points, not grapheme clusters), because
/// the reference graders are Python scripts and their results must be reproduced exactly.
enum PythonText {
    /// `str.isspace()`: Unicode White_Space plus the C0 separators Python also counts.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.properties.isWhitespace || (0x1C...0x1F).contains(c.value)
    }

    /// `\d` in a Python `re` str pattern: any Unicode decimal digit.
    static func isDigit(_ c: Unicode.Scalar) -> Bool {
        c.properties.numericType == .decimal
    }

    /// `str.strip()` with no argument.
    static func strip(_ s: [Unicode.Scalar]) -> ArraySlice<Unicode.Scalar> {
        guard let first = s.firstIndex(where: { !isSpace($0) }),
              let last = s.lastIndex(where: { !isSpace($0) }) else { return [] }
        return s[first...last]
    }

    static func strip(_ s: String) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: strip(Array(s.unicodeScalars)))
        return String(view)
    }

    /// `str.replace(old, new)`: non-overlapping, left to right.
    static func replace(_ s: [Unicode.Scalar], _ old: [Unicode.Scalar], _ new: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard !old.isEmpty, s.count >= old.count else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if s[i] == old[0], i + old.count <= s.count, s[i..<(i + old.count)].elementsEqual(old) {
                out.append(contentsOf: new)
                i += old.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// `str.split()` with no argument: runs of whitespace separate, no empty words.
    static func split(_ s: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for c in s {
            if isSpace(c) {
                if !current.isEmpty { words.append(current); current = [] }
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    static func string(_ s: some Sequence<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: s)
        return String(view)
    }
}
