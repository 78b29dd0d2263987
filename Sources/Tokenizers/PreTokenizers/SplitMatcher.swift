/// Finds the matches of a split pattern: the hand-written scanner for the known GPT-style
/// patterns, a literal search for `String` patterns, and Swift `Regex` for anything else.
enum SplitMatcher: Sendable {
    case scanner(GPTSplitScanner)
    case literal([Unicode.Scalar])
    case regex(RegexBox)

    /// Builds the matcher; `forceRegex` skips the scanner (tests compare both paths).
    init(pattern: SplitPattern, forceRegex: Bool = false, file: String, path: String) throws {
        switch pattern {
        case let .string(literal):
            self = .literal(Array(literal.unicodeScalars))
        case let .regex(source):
            if !forceRegex, let scanner = GPTSplitScanner(pattern: source) {
                self = .scanner(scanner)
            } else {
                do {
                    self = .regex(RegexBox(try Regex(source).matchingSemantics(.unicodeScalar)))
                } catch {
                    throw TokenizerError.invalidField(file: file, field: path + ".pattern.Regex",
                                                      reason: "cannot compile regex: \(error)")
                }
            }
        }
    }

    /// Non-overlapping, non-empty matches in order.
    func matches(in text: AlignedText) -> [Range<Int>] {
        switch self {
        case let .scanner(scanner):
            return scanner.matches(in: text)
        case let .literal(pattern):
            guard !pattern.isEmpty else { return [] }
            var out: [Range<Int>] = []
            var k = 0
            let n = text.count, m = pattern.count
            while k + m <= n {
                if (0..<m).allSatisfy({ text.scalar(k + $0) == pattern[$0] }) {
                    out.append(k..<(k + m))
                    k += m
                } else {
                    k += 1
                }
            }
            return out
        case let .regex(box):
            return box.matches(in: text)
        }
    }
}

/// Swift `Regex` over the scalars of a piece. The regex value is only read after construction,
/// which is what makes sharing it across threads safe.
final class RegexBox: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }

    func matches(in text: AlignedText) -> [Range<Int>] {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text.scalars)
        let string = String(view)
        let scalars = string.unicodeScalars
        var out: [Range<Int>] = []
        // Walk scalar positions alongside the string indices the regex reports.
        var lastIndex = scalars.startIndex
        var lastOffset = 0
        func offset(of index: String.Index) -> Int {
            let d = scalars.distance(from: lastIndex, to: index)
            lastIndex = index
            lastOffset += d
            return lastOffset
        }
        for match in string.matches(of: regex) where !match.range.isEmpty {
            let lo = offset(of: match.range.lowerBound)
            let hi = offset(of: match.range.upperBound)
            out.append(lo..<hi)
        }
        return out
    }
}
