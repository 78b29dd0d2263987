extension Tokenizer {
    /// The special tokens a chat template sees, as transformers passes `special_tokens_map` to
    /// `apply_chat_template`: `bos_token`, `eos_token`, `unk_token`, `pad_token` where declared and
    /// `additional_special_tokens` where non-empty. Training, evaluation and `svco generate` all
    /// render with these, so a template reads the same variables everywhere.
    public var templateVariables: [String: JinjaValue] {
        var variables: [String: JinjaValue] = [:]
        for (name, token) in [("bos_token", bosToken), ("eos_token", eosToken), ("unk_token", unkToken), ("pad_token", padToken)] {
            if let token, !token.isEmpty { variables[name] = .string(token) }
        }
        if let extra = config.additionalSpecialTokens, !extra.isEmpty {
            variables["additional_special_tokens"] = .list(extra.map { .string($0.content) })
        }
        return variables
    }
}
