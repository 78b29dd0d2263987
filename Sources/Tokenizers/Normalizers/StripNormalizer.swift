/// Removes leading and/or trailing whitespace.
struct StripNormalizer: Normalizer {
    struct Config: Codable, Sendable {
        var stripLeft: Bool = true
        var stripRight: Bool = true
        enum CodingKeys: String, CodingKey {
            case stripLeft = "strip_left", stripRight = "strip_right"
        }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            stripLeft = try c.decodeIfPresent(Bool.self, forKey: .stripLeft) ?? true
            stripRight = try c.decodeIfPresent(Bool.self, forKey: .stripRight) ?? true
        }
    }

    let config: Config

    func normalize(_ text: AlignedText) -> AlignedText {
        var lo = 0, hi = text.count
        if config.stripLeft { while lo < hi && isWhitespace(text.scalar(lo)) { lo += 1 } }
        if config.stripRight { while hi > lo && isWhitespace(text.scalar(hi - 1)) { hi -= 1 } }
        return text.slice(lo..<hi)
    }
}
