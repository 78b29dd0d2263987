/// A token matched verbatim in the input before the model runs (`added_tokens` in
/// tokenizer.json): special tokens such as `<s>`, `<|im_start|>`, or `<image>`.
public struct AddedToken: Codable, Sendable, Equatable {
    /// Its id and text.
    public var id: Int
    public var content: String
    /// Only match when not inside a word.
    public var singleWord: Bool
    /// Also swallow whitespace to the left / right of the match.
    public var lstrip: Bool
    /// (see `lstrip`)
    public var rstrip: Bool
    /// Match against normalised text (true) or the raw input (false).
    public var normalized: Bool
    /// Dropped by `decode(skipSpecialTokens: true)`.
    public var special: Bool

    enum CodingKeys: String, CodingKey {
        case id, content, singleWord = "single_word", lstrip, rstrip, normalized, special
    }

    /// A token; `normalized` defaults to `!special`, as in HF.
    public init(id: Int, content: String, singleWord: Bool = false, lstrip: Bool = false, rstrip: Bool = false,
                normalized: Bool? = nil, special: Bool = false) {
        self.id = id
        self.content = content
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized ?? !special
        self.special = special
    }

    /// Reads an `added_tokens` entry; absent flags take HF's defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int.self, forKey: .id)
        content = try c.decode(String.self, forKey: .content)
        singleWord = try c.decodeIfPresent(Bool.self, forKey: .singleWord) ?? false
        lstrip = try c.decodeIfPresent(Bool.self, forKey: .lstrip) ?? false
        rstrip = try c.decodeIfPresent(Bool.self, forKey: .rstrip) ?? false
        special = try c.decodeIfPresent(Bool.self, forKey: .special) ?? false
        normalized = try c.decodeIfPresent(Bool.self, forKey: .normalized) ?? !special
    }
}
