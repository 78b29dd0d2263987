/// GPT-2's byte-level pre-tokenizer. The byte-to-character mapping itself is left to the BPE model
/// (which then works on UTF-8 bytes directly); this stage only adds the prefix space and, with
/// `use_regex`, splits with GPT-2's pattern.
struct ByteLevelPreTokenizer: PreTokenizer {
    struct Config: Codable, Sendable {
        var addPrefixSpace: Bool = true
        var useRegex: Bool = true
        enum CodingKeys: String, CodingKey { case addPrefixSpace = "add_prefix_space", useRegex = "use_regex" }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            addPrefixSpace = try c.decodeIfPresent(Bool.self, forKey: .addPrefixSpace) ?? true
            useRegex = try c.decodeIfPresent(Bool.self, forKey: .useRegex) ?? true
        }
    }

    let config: Config
    let scanner = GPTSplitScanner(flavor: .gpt2)

    var isByteLevel: Bool { true }
    var isIdentity: Bool { !config.addPrefixSpace && !config.useRegex }

    func split(_ piece: AlignedText, into out: inout [AlignedText]) {
        var text = piece
        if config.addPrefixSpace && !text.isEmpty && text.scalar(0) != " " {
            text = PrependNormalizer(config: .init(prepend: " ")).normalize(text)
        }
        if config.useRegex {
            SplitBehavior.isolated.apply(text, matches: scanner.matches(in: text), into: &out)
        } else {
            out.append(text)
        }
    }
}
