/// SentencePiece's space handling: spaces become `▁`, a `▁` is put in front (always, only at the
/// very start of the input with scheme `first`, or never), and with `split` the text is cut before
/// every `▁`.
struct MetaspacePreTokenizer: PreTokenizer {
    enum PrependScheme: String, Codable, Sendable {
        case always, first, never
    }

    struct Config: Codable, Sendable {
        var replacement: String = "▁"
        var prependScheme: PrependScheme = .always
        var split: Bool = true
        enum CodingKeys: String, CodingKey {
            case replacement, prependScheme = "prepend_scheme", split, addPrefixSpace = "add_prefix_space"
        }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            replacement = try c.decodeIfPresent(String.self, forKey: .replacement) ?? "▁"
            if let scheme = try c.decodeIfPresent(PrependScheme.self, forKey: .prependScheme) {
                prependScheme = scheme
            } else if let add = try c.decodeIfPresent(Bool.self, forKey: .addPrefixSpace) {
                // Files written before prepend_scheme existed.
                prependScheme = add ? .always : .never
            }
            split = try c.decodeIfPresent(Bool.self, forKey: .split) ?? true
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(replacement, forKey: .replacement)
            try c.encode(prependScheme, forKey: .prependScheme)
            try c.encode(split, forKey: .split)
        }
    }

    let replacement: Unicode.Scalar
    let scheme: PrependScheme
    let splits: Bool

    init(config: Config, file: String, path: String) throws {
        guard let r = config.replacement.unicodeScalars.first, config.replacement.unicodeScalars.count == 1 else {
            throw TokenizerError.invalidField(file: file, field: path + ".replacement", reason: "must be one character")
        }
        replacement = r
        scheme = config.prependScheme
        splits = config.split
    }

    func split(_ piece: AlignedText, into out: inout [AlignedText]) {
        var b = AlignedTextBuilder(capacity: piece.count + 1)
        let startsWithSpace = !piece.isEmpty && (piece.scalar(0) == " " || piece.scalar(0) == replacement)
        let atInputStart = !piece.isEmpty && piece.start(0) == 0
        let prepend = !piece.isEmpty && !startsWithSpace
            && (scheme == .always || (scheme == .first && atInputStart))
        if prepend {
            b.append(replacement, start: piece.start(0), end: piece.end(0))
        }
        for k in 0..<piece.count {
            let s = piece.scalar(k)
            b.append(s == " " ? replacement : s, start: piece.start(k),
                     end: piece.end(k))
        }
        let text = b.build()
        if splits {
            var ranges: [Range<Int>] = []
            for k in 0..<text.count where text.scalar(k) == replacement { ranges.append(k..<(k + 1)) }
            SplitBehavior.mergedWithNext.apply(text, matches: ranges, into: &out)
        } else {
            out.append(text)
        }
    }
}
