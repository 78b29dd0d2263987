/// One lexical token of a template, with the 1-based line it starts on.
struct JinjaToken: Sendable {
    enum Kind: Sendable, Equatable {
        case data(String)
        case blockBegin
        case blockEnd
        case variableBegin
        case variableEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case eof
    }

    var kind: Kind
    var line: Int
}

/// Splits template source into data and tag tokens the way jinja2's lexer does under HF's
/// settings (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`):
/// newlines normalised to `\n`, one trailing newline dropped, `-`/`+` whitespace control,
/// comments removed and `{% raw %}` bodies passed through as data.
struct JinjaLexer {
    private let s: [Unicode.Scalar]
    private let templateName: String
    private let trimBlocks: Bool
    private let lstripBlocks: Bool
    private var pos = 0
    private var line = 1
    private var lineStarting = true
    private var tokens: [JinjaToken] = []

    init(source: String, templateName: String, trimBlocks: Bool = true, lstripBlocks: Bool = true) {
        // Normalise \r\n and \r to \n and drop one trailing newline, as jinja2 does before lexing.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.unicodeScalars.count)
        var previousCR = false
        for u in source.unicodeScalars {
            if u == "\r" {
                scalars.append("\n")
                previousCR = true
                continue
            }
            if u == "\n" && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            scalars.append(u)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        self.s = scalars
        self.templateName = templateName
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
    }

    private func error(_ message: String, line: Int? = nil) -> ChatTemplateError {
        .syntax(template: templateName, line: line ?? self.line, message: message)
    }

    private enum TagKind { case block, variable, comment }

    /// Tokenises the whole source.
    mutating func tokenize() throws -> [JinjaToken] {
        while pos < s.count {
            guard let (tagPos, kind) = nextTagStart(from: pos) else {
                emitData(pos..<s.count, strippedText: nil)
                pos = s.count
                break
            }
            let sign: Unicode.Scalar? = (tagPos + 2 < s.count && (s[tagPos + 2] == "-" || s[tagPos + 2] == "+"))
                ? s[tagPos + 2] : nil
            if kind == .block, let rawEnd = matchRawBegin(at: tagPos) {
                emitData(pos..<tagPos, strippedText: stripText(pos..<tagPos, sign: sign, kind: .block))
                let startLine = line
                line += newlines(tagPos..<rawEnd)
                lineStarting = s[rawEnd - 1] == "\n"
                pos = rawEnd
                try lexRawBody(startLine: startLine)
                continue
            }
            emitData(pos..<tagPos, strippedText: stripText(pos..<tagPos, sign: sign, kind: kind))
            pos = tagPos + 2 + (sign == nil ? 0 : 1)
            switch kind {
            case .comment: try skipComment()
            case .block:
                tokens.append(JinjaToken(kind: .blockBegin, line: line))
                try lexTag(block: true)
            case .variable:
                tokens.append(JinjaToken(kind: .variableBegin, line: line))
                try lexTag(block: false)
            }
        }
        tokens.append(JinjaToken(kind: .eof, line: line))
        return tokens
    }

    /// The earliest `{%`, `{{` or `{#` at or after `from`.
    private func nextTagStart(from start: Int) -> (Int, TagKind)? {
        var i = start
        while i + 1 < s.count {
            if s[i] == "{" {
                switch s[i + 1] {
                case "%": return (i, .block)
                case "{": return (i, .variable)
                case "#": return (i, .comment)
                default: break
                }
            }
            i += 1
        }
        return nil
    }

    private func newlines(_ range: Range<Int>) -> Int {
        var n = 0
        for i in range where s[i] == "\n" { n += 1 }
        return n
    }

    /// The data before a tag after whitespace control: `-` strips all trailing whitespace;
    /// otherwise lstrip_blocks removes spaces/tabs between the line start and a block or comment tag.
    private func stripText(_ range: Range<Int>, sign: Unicode.Scalar?, kind: TagKind) -> Range<Int> {
        if sign == "-" {
            var end = range.upperBound
            while end > range.lowerBound && PythonFormat.isSpace(s[end - 1]) { end -= 1 }
            return range.lowerBound..<end
        }
        guard sign != "+", lstripBlocks, kind != .variable else { return range }
        var lineStart = range.upperBound
        while lineStart > range.lowerBound && s[lineStart - 1] != "\n" { lineStart -= 1 }
        guard lineStart > range.lowerBound || lineStarting, lineStart < range.upperBound else { return range }
        for i in lineStart..<range.upperBound where !PythonFormat.isSpace(s[i]) { return range }
        return range.lowerBound..<lineStart
    }

    /// Emits `strippedText` (or the whole range) as data and advances the line count by the
    /// newlines of the whole original range, stripped ones included.
    private mutating func emitData(_ range: Range<Int>, strippedText: Range<Int>?) {
        let kept = strippedText ?? range
        if !kept.isEmpty {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: s[kept])
            tokens.append(JinjaToken(kind: .data(String(text)), line: line))
        }
        line += newlines(range)
    }

    private func skipSpaces(_ i: inout Int) {
        while i < s.count && PythonFormat.isSpace(s[i]) { i += 1 }
    }

    private func matchWord(_ word: String, at i: Int) -> Bool {
        var j = i
        for u in word.unicodeScalars {
            guard j < s.count, s[j] == u else { return false }
            j += 1
        }
        return true
    }

    /// If `{% raw %}` (any whitespace control) starts at `i`, the position after it.
    private func matchRawBegin(at i: Int) -> Int? {
        var j = i + 2
        if j < s.count && (s[j] == "-" || s[j] == "+") { j += 1 }
        skipSpaces(&j)
        guard matchWord("raw", at: j) else { return nil }
        j += 3
        skipSpaces(&j)
        if matchWord("-%}", at: j) {
            j += 3
            skipSpaces(&j)
            return j
        }
        if matchWord("%}", at: j) { return j + 2 }
        return nil
    }

    /// The body of `{% raw %}` up to `{% endraw %}`, emitted as data.
    private mutating func lexRawBody(startLine: Int) throws {
        var i = pos
        while let (tagPos, kind) = nextTagStart(from: i) {
            i = tagPos + 1
            guard kind == .block else { continue }
            var j = tagPos + 2
            let sign: Unicode.Scalar? = (j < s.count && (s[j] == "-" || s[j] == "+")) ? s[j] : nil
            if sign != nil { j += 1 }
            skipSpaces(&j)
            guard matchWord("endraw", at: j) else { continue }
            j += 6
            skipSpaces(&j)
            guard let end = matchBlockEnd(at: j) else { continue }
            emitData(pos..<tagPos, strippedText: stripText(pos..<tagPos, sign: sign, kind: .block))
            line += newlines(tagPos..<end)
            lineStarting = s[end - 1] == "\n"
            pos = end
            return
        }
        throw error("Missing end of raw directive", line: startLine)
    }

    /// If a block end (`+%}`, `-%}` plus whitespace, or `%}` plus one newline under
    /// trim_blocks) starts at `j`, the position after it.
    private func matchBlockEnd(at j: Int) -> Int? {
        if matchWord("+%}", at: j) { return j + 3 }
        if matchWord("-%}", at: j) {
            var k = j + 3
            skipSpaces(&k)
            return k
        }
        if matchWord("%}", at: j) {
            var k = j + 2
            if trimBlocks && k < s.count && s[k] == "\n" { k += 1 }
            return k
        }
        return nil
    }

    private mutating func skipComment() throws {
        let startLine = line
        var i = pos
        while i < s.count {
            var end: Int?
            if matchWord("+#}", at: i) {
                end = i + 3
            } else if matchWord("-#}", at: i) {
                var k = i + 3
                skipSpaces(&k)
                end = k
            } else if matchWord("#}", at: i) {
                var k = i + 2
                if trimBlocks && k < s.count && s[k] == "\n" { k += 1 }
                end = k
            }
            if let end {
                line += newlines(pos..<end)
                lineStarting = s[end - 1] == "\n"
                pos = end
                return
            }
            i += 1
        }
        throw error("Missing end of comment tag", line: startLine)
    }

    /// Tokens inside `{% … %}` or `{{ … }}` up to the matching end delimiter.
    private mutating func lexTag(block: Bool) throws {
        let tagLine = line
        var balance: [Unicode.Scalar] = []
        while pos < s.count {
            if balance.isEmpty {
                if block, let end = matchBlockEnd(at: pos) {
                    tokens.append(JinjaToken(kind: .blockEnd, line: line))
                    line += newlines(pos..<end)
                    lineStarting = s[end - 1] == "\n"
                    pos = end
                    return
                }
                if !block {
                    var end: Int?
                    if matchWord("-}}", at: pos) {
                        var k = pos + 3
                        skipSpaces(&k)
                        end = k
                    } else if matchWord("}}", at: pos) {
                        end = pos + 2
                    }
                    if let end {
                        tokens.append(JinjaToken(kind: .variableEnd, line: line))
                        line += newlines(pos..<end)
                        lineStarting = s[end - 1] == "\n"
                        pos = end
                        return
                    }
                }
            }
            let c = s[pos]
            if PythonFormat.isSpace(c) {
                if c == "\n" { line += 1 }
                pos += 1
                continue
            }
            if let token = lexNumber() {
                tokens.append(JinjaToken(kind: token, line: line))
                continue
            }
            if c == "_" || c.properties.isXIDStart {
                let start = pos
                pos += 1
                while pos < s.count && (s[pos] == "_" || s[pos].properties.isXIDContinue) { pos += 1 }
                var name = String.UnicodeScalarView()
                name.append(contentsOf: s[start..<pos])
                tokens.append(JinjaToken(kind: .name(String(name)), line: line))
                continue
            }
            if c == "'" || c == "\"" {
                let startLine = line
                let value = try lexString(quote: c)
                tokens.append(JinjaToken(kind: .string(value), line: startLine))
                continue
            }
            if let op = lexOperator() {
                switch op {
                case "(": balance.append(")")
                case "[": balance.append("]")
                case "{": balance.append("}")
                case ")", "]", "}":
                    guard let expected = balance.popLast() else { throw error("unexpected '\(op)'") }
                    if String(expected) != op { throw error("unexpected '\(op)', expected '\(expected)'") }
                default: break
                }
                tokens.append(JinjaToken(kind: .op(op), line: line))
                continue
            }
            throw error("unexpected char \(PythonFormat.stringRepr(String(c))) at \(pos)")
        }
        throw error("unexpected end of template: the tag opened on line \(tagLine) is not closed", line: tagLine)
    }

    private static let operators2: Set<String> = ["//", "**", "==", "!=", ">=", "<="]
    private static let operators1: Set<Unicode.Scalar> = [
        "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
    ]

    private mutating func lexOperator() -> String? {
        if pos + 1 < s.count {
            let two = String(s[pos]) + String(s[pos + 1])
            if Self.operators2.contains(two) {
                pos += 2
                return two
            }
        }
        if Self.operators1.contains(s[pos]) {
            pos += 1
            return String(s[pos - 1])
        }
        return nil
    }

    private func isDigit(_ i: Int) -> Bool { i < s.count && s[i].value >= 48 && s[i].value <= 57 }

    /// Matches `(\d+_)*\d+` at `i`; returns the end or nil.
    private func digitRun(_ i: Int) -> Int? {
        guard isDigit(i) else { return nil }
        var j = i
        while true {
            while isDigit(j) { j += 1 }
            if j < s.count && s[j] == "_" && isDigit(j + 1) { j += 1 } else { return j }
        }
    }

    private func digits(_ range: Range<Int>) -> String {
        var out = ""
        for i in range where s[i] != "_" { out.unicodeScalars.append(s[i]) }
        return out
    }

    /// Float and integer literals, as jinja2's float_re and integer_re match them.
    private mutating func lexNumber() -> JinjaToken.Kind? {
        guard isDigit(pos) else { return nil }
        // Float: not right after a '.', so `foo.0.1` stays attribute access.
        if pos == 0 || s[pos - 1] != ".", let intEnd = digitRun(pos) {
            var j = intEnd
            var fracEnd: Int?
            if j < s.count && s[j] == ".", let f = digitRun(j + 1) { fracEnd = f }
            var expEnd: Int?
            let afterFrac = fracEnd ?? j
            if afterFrac < s.count && (s[afterFrac] == "e" || s[afterFrac] == "E") {
                var k = afterFrac + 1
                if k < s.count && (s[k] == "+" || s[k] == "-") { k += 1 }
                expEnd = digitRun(k)
            }
            if let end = expEnd ?? fracEnd {
                j = end
                if let value = Double(digits(pos..<j)) {
                    pos = j
                    return .float(value)
                }
            }
        }
        // Integer: 0b/0o/0x prefixes, or decimal without leading zeros.
        if s[pos] == "0" && pos + 1 < s.count {
            let p = s[pos + 1]
            let radix: Int? = (p == "b" || p == "B") ? 2 : (p == "o" || p == "O") ? 8 : (p == "x" || p == "X") ? 16 : nil
            if let radix {
                var j = pos + 2
                var text = ""
                while j < s.count {
                    if s[j] == "_" && j + 1 < s.count && Int(String(s[j + 1]), radix: radix) != nil {
                        j += 1
                        continue
                    }
                    guard Int(String(s[j]), radix: radix) != nil else { break }
                    text.unicodeScalars.append(s[j])
                    j += 1
                }
                if !text.isEmpty, let v = Int(text, radix: radix) {
                    pos = j
                    return .integer(v)
                }
            }
        }
        if s[pos] == "0" {
            var j = pos + 1
            while j < s.count {
                if s[j] == "0" { j += 1 } else if s[j] == "_" && j + 1 < s.count && s[j + 1] == "0" { j += 2 } else { break }
            }
            pos = j
            return .integer(0)
        }
        let end = digitRun(pos) ?? pos + 1
        let text = digits(pos..<end)
        pos = end
        // Literals beyond 64 bits are rare in templates; keep them as floats rather than fail.
        if let v = Int(text) { return .integer(v) }
        return .float(Double(text) ?? .infinity)
    }

    /// A quoted string literal, unescaped as Python's `unicode-escape` codec does.
    private mutating func lexString(quote: Unicode.Scalar) throws -> String {
        let startLine = line
        var j = pos + 1
        var out = String.UnicodeScalarView()
        while j < s.count {
            let c = s[j]
            if c == quote {
                line += newlines(pos..<j)
                pos = j + 1
                return String(out)
            }
            if c != "\\" {
                out.append(c)
                j += 1
                continue
            }
            guard j + 1 < s.count else { break }
            let e = s[j + 1]
            j += 2
            switch e {
            case "\n": break  // line continuation
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var v = e.value - 48
                var n = 1
                while n < 3 && j < s.count && s[j].value >= 48 && s[j].value <= 55 {
                    v = v * 8 + s[j].value - 48
                    j += 1
                    n += 1
                }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            case "x", "u", "U":
                let width = e == "x" ? 2 : (e == "u" ? 4 : 8)
                guard j + width <= s.count else { throw error("truncated \\\(e) escape", line: startLine) }
                var hex = ""
                hex.unicodeScalars.append(contentsOf: s[j..<j + width])
                guard let v = UInt32(hex, radix: 16), hex.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit })
                else { throw error("truncated \\\(e) escape", line: startLine) }
                guard let scalar = Unicode.Scalar(v) else { throw error("illegal Unicode character", line: startLine) }
                out.append(scalar)
                j += width
            default:
                // Unknown escapes keep their backslash, as in Python.
                out.append("\\")
                out.append(e)
            }
        }
        throw error("unexpected char \(PythonFormat.stringRepr(String(quote))) at \(pos)", line: startLine)
    }
}
