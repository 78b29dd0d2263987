/// Replaces every occurrence of a literal string by another (Llama-2's `Replace(" ", "▁")`).
/// The replacement scalars align with the original range of the occurrence they replace.
struct ReplaceNormalizer: Normalizer {
    struct Config: Codable, Sendable {
        var pattern: SplitPattern
        var content: String
        enum CodingKeys: String, CodingKey { case pattern, content }
    }

    let pattern: [Unicode.Scalar]
    let content: [Unicode.Scalar]

    init(config: Config, file: String, path: String) throws {
        guard case let .string(literal) = config.pattern else {
            // Regex replacement is not used by the supported model families.
            throw TokenizerError.invalidField(file: file, field: path + ".pattern",
                                              reason: "only String patterns are supported in Replace")
        }
        guard !literal.isEmpty else {
            throw TokenizerError.invalidField(file: file, field: path + ".pattern", reason: "empty pattern")
        }
        pattern = Array(literal.unicodeScalars)
        content = Array(config.content.unicodeScalars)
    }

    func normalize(_ text: AlignedText) -> AlignedText {
        let n = text.count, m = pattern.count
        var out = AlignedTextBuilder(capacity: n)
        var k = 0
        while k < n {
            if text.scalar(k) == pattern[0] && k + m <= n
                && (1..<m).allSatisfy({ text.scalar(k + $0) == pattern[$0] }) {
                let whole = text.originalRange(k..<(k + m))
                for s in content { out.append(s, start: Int32(whole.lowerBound), end: Int32(whole.upperBound)) }
                k += m
            } else {
                out.append(text.scalar(k), start: text.start(k),
                           end: text.end(k))
                k += 1
            }
        }
        return out.build()
    }
}
