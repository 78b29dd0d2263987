/// The transformers-level settings of `tokenizer_config.json` (and the same special-token keys
/// in `special_tokens_map.json`) that change what the tokenizer does.
public struct TokenizerConfig: Codable, Sendable {
    /// A special token given either as a plain string or as an AddedToken-like object.
    public struct TokenValue: Codable, Sendable, Equatable {
        /// The token text.
        public var content: String
        /// The AddedToken flags when given as an object (nil: not stated).
        public var lstrip: Bool?
        public var rstrip: Bool?
        public var normalized: Bool?
        public var singleWord: Bool?
        public var special: Bool?

        enum CodingKeys: String, CodingKey {
            case content, lstrip, rstrip, normalized, singleWord = "single_word", special
        }

        /// A token given by its text only.
        public init(content: String) { self.content = content }

        /// Reads a plain string or an object with `content`.
        public init(from decoder: Decoder) throws {
            if let s = try? decoder.singleValueContainer().decode(String.self) {
                content = s
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            content = try c.decode(String.self, forKey: .content)
            lstrip = try c.decodeIfPresent(Bool.self, forKey: .lstrip)
            rstrip = try c.decodeIfPresent(Bool.self, forKey: .rstrip)
            normalized = try c.decodeIfPresent(Bool.self, forKey: .normalized)
            singleWord = try c.decodeIfPresent(Bool.self, forKey: .singleWord)
            special = try c.decodeIfPresent(Bool.self, forKey: .special)
        }
    }

    /// `chat_template`: one template, or a list of named templates of which the one named
    /// "default" is used (transformers builds a name → template dict: a repeated name's last
    /// template wins).
    public enum ChatTemplate: Codable, Sendable, Equatable {
        case single(String)
        /// The `{name, template}` entries in file order.
        case named([Named])

        /// One entry of a template list.
        public struct Named: Codable, Sendable, Equatable {
            public var name: String
            public var template: String

            public init(name: String, template: String) {
                self.name = name
                self.template = template
            }
        }

        /// Reads a string or a list of `{name, template}` objects.
        public init(from decoder: Decoder) throws {
            if let s = try? decoder.singleValueContainer().decode(String.self) {
                self = .single(s)
                return
            }
            self = .named(try decoder.singleValueContainer().decode([Named].self))
        }

        /// Writes the form it was read in.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .single(s): try c.encode(s)
            case let .named(entries): try c.encode(entries)
            }
        }

        /// The default template text (nil when a list names none "default").
        public var defaultTemplate: String? {
            switch self {
            case let .single(s): return s
            case let .named(entries): return entries.last(where: { $0.name == "default" })?.template
            }
        }
    }

    /// `add_bos_token` / `add_eos_token` (LlamaTokenizerFast builds its template from them).
    public var addBOSToken: Bool?
    public var addEOSToken: Bool?
    /// The declared special tokens.
    public var bosToken: TokenValue?
    public var eosToken: TokenValue?
    public var unkToken: TokenValue?
    public var padToken: TokenValue?
    public var additionalSpecialTokens: [TokenValue]?
    /// Keys are ids written as strings, as transformers saves them.
    public var addedTokensDecoder: [String: TokenValue]?
    /// Whether decode removes spaces before punctuation (transformers' default here: false).
    public var cleanUpTokenizationSpaces: Bool?
    /// e.g. "LlamaTokenizer", "Qwen2Tokenizer".
    public var tokenizerClass: String?
    /// The Jinja chat template(s).
    public var chatTemplate: ChatTemplate?

    enum CodingKeys: String, CodingKey {
        case addBOSToken = "add_bos_token", addEOSToken = "add_eos_token"
        case bosToken = "bos_token", eosToken = "eos_token", unkToken = "unk_token", padToken = "pad_token"
        case additionalSpecialTokens = "additional_special_tokens"
        case addedTokensDecoder = "added_tokens_decoder"
        case cleanUpTokenizationSpaces = "clean_up_tokenization_spaces"
        case tokenizerClass = "tokenizer_class"
        case chatTemplate = "chat_template"
    }

    /// An empty configuration (all unset).
    public init() {}

    /// Reads tokenizer_config.json / special_tokens_map.json; nulls count as unset.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Absent and null both mean "not set" (transformers writes nulls for unset tokens).
        func token(_ key: CodingKeys) throws -> TokenValue? {
            try c.decodeNil(forKey: key) ? nil : c.decode(TokenValue.self, forKey: key)
        }
        addBOSToken = try c.decodeNil(forKey: .addBOSToken) ? nil : c.decode(Bool.self, forKey: .addBOSToken)
        addEOSToken = try c.decodeNil(forKey: .addEOSToken) ? nil : c.decode(Bool.self, forKey: .addEOSToken)
        bosToken = try token(.bosToken)
        eosToken = try token(.eosToken)
        unkToken = try token(.unkToken)
        padToken = try token(.padToken)
        additionalSpecialTokens = try c.decodeNil(forKey: .additionalSpecialTokens)
            ? nil : c.decode([TokenValue].self, forKey: .additionalSpecialTokens)
        addedTokensDecoder = try c.decodeNil(forKey: .addedTokensDecoder)
            ? nil : c.decode([String: TokenValue].self, forKey: .addedTokensDecoder)
        cleanUpTokenizationSpaces = try c.decodeNil(forKey: .cleanUpTokenizationSpaces)
            ? nil : c.decode(Bool.self, forKey: .cleanUpTokenizationSpaces)
        tokenizerClass = try c.decodeNil(forKey: .tokenizerClass) ? nil : c.decode(String.self, forKey: .tokenizerClass)
        chatTemplate = try c.decodeNil(forKey: .chatTemplate) ? nil : c.decode(ChatTemplate.self, forKey: .chatTemplate)
    }

    /// Reads `tokenizer_config.json` or `special_tokens_map.json`; errors name the file and field.
    public static func read(file: String) throws -> TokenizerConfig {
        try JSONValueDecoder.decode(TokenizerConfig.self, from: Tokenizer.readJSON(file), file: file)
    }

    /// Values of `other` (special_tokens_map.json) replace ours where set, as transformers does.
    mutating func overlay(_ other: TokenizerConfig) {
        if let v = other.bosToken { bosToken = v }
        if let v = other.eosToken { eosToken = v }
        if let v = other.unkToken { unkToken = v }
        if let v = other.padToken { padToken = v }
        if let v = other.additionalSpecialTokens { additionalSpecialTokens = v }
    }
}
