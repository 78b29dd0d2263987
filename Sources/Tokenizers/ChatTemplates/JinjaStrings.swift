/// Python `str` algorithms over Unicode scalars (Python indexes code points, not graphemes).
enum JinjaStrings {
    static func find(_ hay: [Unicode.Scalar], _ needle: [Unicode.Scalar], from start: Int) -> Int? {
        if needle.isEmpty { return start <= hay.count ? start : nil }
        guard hay.count >= needle.count else { return nil }
        var i = start
        let first = needle[0]
        while i <= hay.count - needle.count {
            if hay[i] == first {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func findLast(_ hay: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = hay.count - needle.count
        while i >= 0 {
            if hay[i..<i + needle.count].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }

    /// Non-overlapping occurrences; an empty needle counts len + 1 positions, as in Python.
    static func count(_ hay: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Int {
        if needle.isEmpty { return hay.count + 1 }
        var n = 0
        var i = 0
        while let j = find(hay, needle, from: i) {
            n += 1
            i = j + needle.count
        }
        return n
    }

    static func strip(_ s: String, chars: String?, leading: Bool, trailing: Bool) -> String {
        let scalars = Array(s.unicodeScalars)
        let set = chars.map { Set($0.unicodeScalars) }
        func strippable(_ u: Unicode.Scalar) -> Bool { set.map { $0.contains(u) } ?? PythonFormat.isSpace(u) }
        var lo = 0
        var hi = scalars.count
        if leading { while lo < hi && strippable(scalars[lo]) { lo += 1 } }
        if trailing { while hi > lo && strippable(scalars[hi - 1]) { hi -= 1 } }
        if lo == 0 && hi == scalars.count { return s }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[lo..<hi])
        return String(out)
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars)
        return String(out)
    }

    /// Python `str.split` / `str.rsplit`.
    static func split(_ s: String, separator: String?, maxSplit: Int, fromRight: Bool) throws -> [String] {
        let scalars = Array(s.unicodeScalars)
        guard let separator else {
            // Runs of whitespace separate; leading and trailing whitespace yields no empty parts.
            var parts: [String] = []
            if !fromRight {
                var i = 0
                while i < scalars.count {
                    while i < scalars.count && PythonFormat.isSpace(scalars[i]) { i += 1 }
                    if i == scalars.count { break }
                    if maxSplit >= 0 && parts.count == maxSplit {
                        var end = scalars.count
                        while end > i && PythonFormat.isSpace(scalars[end - 1]) { end -= 1 }
                        parts.append(string(scalars[i..<end]))
                        break
                    }
                    let start = i
                    while i < scalars.count && !PythonFormat.isSpace(scalars[i]) { i += 1 }
                    parts.append(string(scalars[start..<i]))
                }
                return parts
            }
            var i = scalars.count
            while i > 0 {
                while i > 0 && PythonFormat.isSpace(scalars[i - 1]) { i -= 1 }
                if i == 0 { break }
                if maxSplit >= 0 && parts.count == maxSplit {
                    var start = 0
                    while start < i && PythonFormat.isSpace(scalars[start]) { start += 1 }
                    parts.append(string(scalars[start..<i]))
                    break
                }
                let end = i
                while i > 0 && !PythonFormat.isSpace(scalars[i - 1]) { i -= 1 }
                parts.append(string(scalars[i..<end]))
            }
            return parts.reversed()
        }
        let sep = Array(separator.unicodeScalars)
        guard !sep.isEmpty else { throw JinjaRuntimeError.message("empty separator") }
        var cuts: [Int] = []
        var i = 0
        while let j = find(scalars, sep, from: i) {
            cuts.append(j)
            i = j + sep.count
        }
        if maxSplit >= 0 && cuts.count > maxSplit {
            cuts = fromRight ? Array(cuts.suffix(maxSplit)) : Array(cuts.prefix(maxSplit))
        }
        var parts: [String] = []
        var start = 0
        for c in cuts {
            parts.append(string(scalars[start..<c]))
            start = c + sep.count
        }
        parts.append(string(scalars[start...]))
        return parts
    }

    /// Python `str.splitlines()` without keepends.
    static func splitLines(_ s: String) -> [String] {
        let scalars = Array(s.unicodeScalars)
        var parts: [String] = []
        var start = 0
        var i = 0
        while i < scalars.count {
            switch scalars[i].value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                parts.append(string(scalars[start..<i]))
                if scalars[i] == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n" { i += 1 }
                start = i + 1
            default: break
            }
            i += 1
        }
        if start < scalars.count { parts.append(string(scalars[start...])) }
        return parts
    }

    /// Python `str.format` for plain fields: `{}`, `{0}`, `{name}` and `{{`/`}}` escapes. Format
    /// specs, conversions and attribute/index access inside fields are rejected.
    static func format(_ s: String, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> String {
        var out = String.UnicodeScalarView()
        let scalars = Array(s.unicodeScalars)
        var i = 0
        var nextAuto = 0
        while i < scalars.count {
            let u = scalars[i]
            if u == "}" {
                guard i + 1 < scalars.count, scalars[i + 1] == "}" else {
                    throw JinjaRuntimeError.message("Single '}' encountered in format string")
                }
                out.append("}")
                i += 2
                continue
            }
            guard u == "{" else {
                out.append(u)
                i += 1
                continue
            }
            if i + 1 < scalars.count, scalars[i + 1] == "{" {
                out.append("{")
                i += 2
                continue
            }
            var j = i + 1
            while j < scalars.count, scalars[j] != "}" { j += 1 }
            guard j < scalars.count else { throw JinjaRuntimeError.message("Single '{' encountered in format string") }
            let field = string(scalars[(i + 1)..<j])
            let value: JinjaValue
            if field.isEmpty {
                guard nextAuto < args.count else {
                    throw JinjaRuntimeError.message("Replacement index \(nextAuto) out of range for positional args tuple")
                }
                value = args[nextAuto]
                nextAuto += 1
            } else if let index = Int(field) {
                guard index >= 0, index < args.count else {
                    throw JinjaRuntimeError.message("Replacement index \(index) out of range for positional args tuple")
                }
                value = args[index]
            } else if field.unicodeScalars.allSatisfy({ $0 == "_" || $0.properties.isXIDContinue }) {
                guard let v = kwargs.first(where: { $0.0 == field })?.1 else { throw JinjaRuntimeError.message("'\(field)'") }
                value = v
            } else {
                throw JinjaRuntimeError.message("format field '{\(field)}' is not supported (only {}, {0} and {name})")
            }
            out.append(contentsOf: value.pythonString.unicodeScalars)
            i = j + 1
        }
        return String(out)
    }

    /// Python `str.replace(old, new, count)`.
    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        let scalars = Array(s.unicodeScalars)
        let o = Array(old.unicodeScalars)
        var out = String.UnicodeScalarView()
        var done = 0
        if o.isEmpty {
            // An empty pattern matches before every character and at the end.
            for u in scalars {
                if count < 0 || done < count {
                    out.append(contentsOf: new.unicodeScalars)
                    done += 1
                }
                out.append(u)
            }
            if count < 0 || done < count { out.append(contentsOf: new.unicodeScalars) }
            return String(out)
        }
        var i = 0
        while count < 0 || done < count, let j = find(scalars, o, from: i) {
            out.append(contentsOf: scalars[i..<j])
            out.append(contentsOf: new.unicodeScalars)
            i = j + o.count
            done += 1
        }
        out.append(contentsOf: scalars[i...])
        return String(out)
    }

    private static func isCased(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter: return true
        default: return false
        }
    }

    /// Python `str.title()`: title-case a character after an uncased one, lower-case the rest.
    static func pythonTitle(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for u in s.unicodeScalars {
            out += previousCased ? u.properties.lowercaseMapping : u.properties.titlecaseMapping
            previousCased = isCased(u)
        }
        return out
    }

    /// Python `str.capitalize()`: first character title-cased, the rest lower-cased.
    static func capitalize(_ s: String) -> String {
        var out = ""
        for (i, u) in s.unicodeScalars.enumerated() {
            out += i == 0 ? u.properties.titlecaseMapping : u.properties.lowercaseMapping
        }
        return out
    }

    /// Jinja's `title` filter: upper-case the first character of each word (words begin after
    /// whitespace or one of `-({[<`) and lower-case the rest of it.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for u in s.unicodeScalars {
            let isBoundary = PythonFormat.isSpace(u) || "-({[<".unicodeScalars.contains(u)
            if isBoundary {
                out.unicodeScalars.append(u)
                atWordStart = true
            } else {
                out += atWordStart ? u.properties.uppercaseMapping : u.properties.lowercaseMapping
                atWordStart = false
            }
        }
        return out
    }

    /// Python's `isdigit`/`isalpha`/… predicates (false for the empty string).
    static func classify(_ s: String, _ name: String) -> Bool {
        let scalars = Array(s.unicodeScalars)
        guard !scalars.isEmpty else { return false }
        switch name {
        case "isdigit": return scalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit }
        case "isalpha": return scalars.allSatisfy { $0.properties.isAlphabetic && $0.properties.generalCategory.isLetter }
        case "isalnum":
            return scalars.allSatisfy { $0.properties.generalCategory.isLetter || $0.properties.numericType != nil }
        case "isspace": return scalars.allSatisfy(PythonFormat.isSpace)
        case "islower":
            return scalars.contains(where: isCased) && !scalars.contains {
                $0.properties.generalCategory == .uppercaseLetter || $0.properties.generalCategory == .titlecaseLetter
            }
        case "isupper":
            return scalars.contains(where: isCased) && !scalars.contains {
                $0.properties.generalCategory == .lowercaseLetter || $0.properties.generalCategory == .titlecaseLetter
            }
        default: return false
        }
    }
}

extension Unicode.GeneralCategory {
    fileprivate var isLetter: Bool {
        switch self {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
}
