/// Puts a fixed string in front of non-empty text (Llama-2's `Prepend("▁")`). The added scalars
/// align with the first original scalar, as HF aligns insertions.
struct PrependNormalizer: Normalizer {
    struct Config: Codable, Sendable {
        var prepend: String
        enum CodingKeys: String, CodingKey { case prepend }
    }

    let prefix: [Unicode.Scalar]

    init(config: Config) { prefix = Array(config.prepend.unicodeScalars) }

    func normalize(_ text: AlignedText) -> AlignedText {
        guard !text.isEmpty, !prefix.isEmpty else { return text }
        var out = AlignedTextBuilder(capacity: text.count + prefix.count)
        let s0 = text.start(0), e0 = text.end(0)
        for s in prefix { out.append(s, start: s0, end: e0) }
        for k in 0..<text.count {
            out.append(text.scalar(k), start: text.start(k),
                       end: text.end(k))
        }
        return out.build()
    }
}
