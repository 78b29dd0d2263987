/// Splits on a pattern (`Split` in tokenizer.json), e.g. Qwen2's GPT-4-style regex with
/// behavior `Isolated`.
struct SplitPreTokenizer: PreTokenizer {
    struct Config: Codable, Sendable {
        var pattern: SplitPattern
        var behavior: SplitBehavior
        var invert: Bool = false
        enum CodingKeys: String, CodingKey { case pattern, behavior, invert }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            pattern = try c.decode(SplitPattern.self, forKey: .pattern)
            behavior = try c.decode(SplitBehavior.self, forKey: .behavior)
            invert = try c.decodeIfPresent(Bool.self, forKey: .invert) ?? false
        }
    }

    let behavior: SplitBehavior
    let invert: Bool
    let matcher: SplitMatcher

    init(config: Config, forceRegex: Bool = false, file: String, path: String) throws {
        behavior = config.behavior
        invert = config.invert
        matcher = try SplitMatcher(pattern: config.pattern, forceRegex: forceRegex, file: file, path: path)
    }

    func split(_ piece: AlignedText, into out: inout [AlignedText]) {
        behavior.apply(piece, matches: matcher.matches(in: piece), invert: invert, into: &out)
    }
}
