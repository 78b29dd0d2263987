/// tokenizer.json pipelines of the two supported families, written as the JSON transformers'
/// converters produce, so tokenizers built from GGUF or tiktoken files go through the very same
/// loading path as a tokenizer.json.
enum PipelineTemplates {
    static func object(_ members: [(String, JSONValue)]) -> JSONValue { .object(members) }
    static func string(_ s: String) -> JSONValue { .string(s) }

    /// Qwen2 (Qwen2Converter): NFC, GPT-4-style split with one digit per piece, byte-level BPE.
    static func qwen2(vocab: JSONValue, merges: JSONValue, addedTokens: [AddedToken]) -> JSONValue {
        object([
            ("added_tokens", .array(addedTokens.map(addedTokenJSON))),
            ("normalizer", object([("type", string("NFC"))])),
            ("pre_tokenizer", object([
                ("type", string("Sequence")),
                ("pretokenizers", .array([
                    object([
                        ("type", string("Split")),
                        ("pattern", object([("Regex", string(GPTSplitScanner.qwen2Pattern))])),
                        ("behavior", string("Isolated")),
                        ("invert", .bool(false)),
                    ]),
                    object([
                        ("type", string("ByteLevel")), ("add_prefix_space", .bool(false)),
                        ("trim_offsets", .bool(true)), ("use_regex", .bool(false)),
                    ]),
                ])),
            ])),
            ("post_processor", object([
                ("type", string("ByteLevel")), ("add_prefix_space", .bool(false)),
                ("trim_offsets", .bool(false)), ("use_regex", .bool(false)),
            ])),
            ("decoder", object([
                ("type", string("ByteLevel")), ("add_prefix_space", .bool(true)),
                ("trim_offsets", .bool(true)), ("use_regex", .bool(true)),
            ])),
            ("model", object([
                ("type", string("BPE")), ("dropout", .null), ("unk_token", .null),
                ("continuing_subword_prefix", string("")), ("end_of_word_suffix", string("")),
                ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)), ("ignore_merges", .bool(false)),
                ("vocab", vocab), ("merges", merges),
            ])),
        ])
    }

    /// Llama-2 (LlamaConverter, legacy layout): Prepend/Replace normalizer, no pre-tokenizer,
    /// SentencePiece BPE with byte fallback, `<s>` template.
    static func llama(vocab: JSONValue, merges: JSONValue, addedTokens: [AddedToken], unkToken: String?,
                      bosToken: String?, bosID: Int?) -> JSONValue {
        var template: [JSONValue] = []
        var specials: [(String, JSONValue)] = []
        if let bos = bosToken, let id = bosID {
            template.append(object([("SpecialToken", object([("id", string(bos)), ("type_id", .integer(0))]))]))
            specials.append((bos, object([("id", string(bos)), ("ids", .array([.integer(id)])),
                                          ("tokens", .array([string(bos)]))])))
        }
        template.append(object([("Sequence", object([("id", string("A")), ("type_id", .integer(0))]))]))
        return object([
            ("added_tokens", .array(addedTokens.map(addedTokenJSON))),
            ("normalizer", object([
                ("type", string("Sequence")),
                ("normalizers", .array([
                    object([("type", string("Prepend")), ("prepend", string("▁"))]),
                    object([("type", string("Replace")), ("pattern", object([("String", string(" "))])),
                            ("content", string("▁"))]),
                ])),
            ])),
            ("pre_tokenizer", .null),
            ("post_processor", object([
                ("type", string("TemplateProcessing")),
                ("single", .array(template)),
                ("pair", .array(template)),
                ("special_tokens", .object(specials)),
            ])),
            ("decoder", object([
                ("type", string("Sequence")),
                ("decoders", .array([
                    object([("type", string("Replace")), ("pattern", object([("String", string("▁"))])),
                            ("content", string(" "))]),
                    object([("type", string("ByteFallback"))]),
                    object([("type", string("Fuse"))]),
                    object([("type", string("Strip")), ("content", string(" ")), ("start", .integer(1)),
                            ("stop", .integer(0))]),
                ])),
            ])),
            ("model", object([
                ("type", string("BPE")), ("dropout", .null), ("unk_token", unkToken.map(string) ?? .null),
                ("continuing_subword_prefix", .null), ("end_of_word_suffix", .null),
                ("fuse_unk", .bool(true)), ("byte_fallback", .bool(true)), ("ignore_merges", .bool(false)),
                ("vocab", vocab), ("merges", merges),
            ])),
        ])
    }

    static func addedTokenJSON(_ t: AddedToken) -> JSONValue {
        object([
            ("id", .integer(t.id)), ("content", string(t.content)), ("single_word", .bool(t.singleWord)),
            ("lstrip", .bool(t.lstrip)), ("rstrip", .bool(t.rstrip)), ("normalized", .bool(t.normalized)),
            ("special", .bool(t.special)),
        ])
    }

    /// A vocabulary object from token strings indexed by id.
    static func vocab(_ tokens: [String]) -> JSONValue {
        .object(tokens.enumerated().map { ($0.element, .integer($0.offset)) })
    }

    /// A merges array of `[a, b]` pairs.
    static func merges(_ pairs: [(String, String)]) -> JSONValue {
        .array(pairs.map { .array([.string($0.0), .string($0.1)]) })
    }
}
