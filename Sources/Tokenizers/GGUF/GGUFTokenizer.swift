extension Tokenizer {
    /// Builds the tokenizer a GGUF file's vocabulary describes, the way transformers converts
    /// GGUF tokenizers: `tokenizer.ggml.model` "llama" → Llama-2 SentencePiece BPE (merges
    /// derived from the scores when the file has none), "gpt2" with pre-tokenizer "qwen2" → Qwen2.
    /// Control and unknown tokens (types 3 and 2) become special added tokens.
    public convenience init(ggufFile path: String) throws {
        let gguf = try GGUFReader(path: path)
        guard let model = gguf.string("tokenizer.ggml.model") else {
            throw TokenizerError.missingField(file: path, field: "tokenizer.ggml.model")
        }
        guard let tokens = try gguf.strings("tokenizer.ggml.tokens") else {
            throw TokenizerError.missingField(file: path, field: "tokenizer.ggml.tokens")
        }
        let types = try gguf.numbers("tokenizer.ggml.token_type")
        if let t = types, t.count != tokens.count {
            throw TokenizerError.invalidField(file: path, field: "tokenizer.ggml.token_type",
                                              reason: "\(t.count) entries for \(tokens.count) tokens")
        }
        var added: [AddedToken] = []
        for (id, token) in tokens.enumerated() {
            let type = types?[id] ?? 1
            if type == 2 || type == 3 {
                added.append(AddedToken(id: id, content: token, normalized: false, special: true))
            }
        }
        func token(_ key: String) throws -> String? {
            guard let id = gguf.int(key) else { return nil }
            guard id >= 0, id < tokens.count else {
                throw TokenizerError.invalidField(file: path, field: key, reason: "id \(id) out of range")
            }
            return tokens[id]
        }
        var config = TokenizerConfig()
        config.bosToken = try token("tokenizer.ggml.bos_token_id").map(TokenizerConfig.TokenValue.init)
        config.eosToken = try token("tokenizer.ggml.eos_token_id").map(TokenizerConfig.TokenValue.init)
        config.unkToken = try (token("tokenizer.ggml.unknown_token_id") ?? token("tokenizer.ggml.unk_token_id"))
            .map(TokenizerConfig.TokenValue.init)
        config.padToken = try token("tokenizer.ggml.padding_token_id").map(TokenizerConfig.TokenValue.init)

        let json: JSONValue
        switch model {
        case "llama":
            let mergeList: [(String, String)]
            if let lines = try gguf.strings("tokenizer.ggml.merges") {
                mergeList = try lines.enumerated().map { i, line in
                    let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                    guard parts.count == 2 else {
                        throw TokenizerError.invalidField(file: path, field: "tokenizer.ggml.merges[\(i)]", reason: "expected 'a b'")
                    }
                    return (String(parts[0]), String(parts[1]))
                }
            } else {
                guard let scores = try gguf.numbers("tokenizer.ggml.scores"), scores.count == tokens.count else {
                    throw TokenizerError.missingField(file: path, field: "tokenizer.ggml.scores")
                }
                mergeList = Self.mergesFromScores(tokens: tokens, scores: scores)
            }
            config.tokenizerClass = "LlamaTokenizerFast"
            config.addBOSToken = gguf.bool("tokenizer.ggml.add_bos_token") ?? true
            config.addEOSToken = gguf.bool("tokenizer.ggml.add_eos_token") ?? false
            let bosID = gguf.int("tokenizer.ggml.bos_token_id")
            json = PipelineTemplates.llama(vocab: PipelineTemplates.vocab(tokens),
                                           merges: PipelineTemplates.merges(mergeList), addedTokens: added,
                                           unkToken: config.unkToken?.content, bosToken: config.bosToken?.content,
                                           bosID: bosID)
        case "gpt2":
            let pre = gguf.string("tokenizer.ggml.pre") ?? "default"
            guard pre == "qwen2" else {
                throw TokenizerError.unknownType(file: path, field: "tokenizer.ggml.pre", type: pre)
            }
            guard let lines = try gguf.strings("tokenizer.ggml.merges") else {
                throw TokenizerError.missingField(file: path, field: "tokenizer.ggml.merges")
            }
            let merges: [JSONValue] = lines.map { .string($0) }
            json = PipelineTemplates.qwen2(vocab: PipelineTemplates.vocab(tokens), merges: .array(merges),
                                           addedTokens: added)
        default:
            throw TokenizerError.unknownType(file: path, field: "tokenizer.ggml.model", type: model)
        }
        try self.init(tokenizerJSON: json, file: path, config: config, configFile: path)
    }

    /// SentencePiece BPE merges from token scores, ordered as transformers' GGUF converter orders
    /// them: every split of every token whose halves are both tokens, by the merged token's score
    /// (highest first, file order on ties), splits of one token by the halves' scores.
    static func mergesFromScores(tokens: [String], scores: [Double]) -> [(String, String)] {
        var scoreOf: [ByteKey: Double] = [:]
        scoreOf.reserveCapacity(tokens.count)
        for (t, s) in zip(tokens, scores) { scoreOf[ByteKey(t)] = s }
        // (left, right, merged score, sequence number for a stable sort)
        var all: [(String, String, Double, Int)] = []
        for (token, score) in zip(tokens, scores) {
            let scalars = Array(token.unicodeScalars)
            guard scalars.count > 1 else { continue }
            var local: [(String, String, Double, Double)] = []
            for cut in 1..<scalars.count {
                var l = String.UnicodeScalarView(), r = String.UnicodeScalarView()
                l.append(contentsOf: scalars[..<cut])
                r.append(contentsOf: scalars[cut...])
                let left = String(l), right = String(r)
                if let sl = scoreOf[ByteKey(left)], let sr = scoreOf[ByteKey(right)] {
                    local.append((left, right, sl, sr))
                }
            }
            // Python's sorted(reverse=True) keeps equal keys in their original order.
            let order = local.indices.sorted { a, b in
                let x = local[a], y = local[b]
                if x.2 != y.2 { return x.2 > y.2 }
                if x.3 != y.3 { return x.3 > y.3 }
                return a < b
            }
            for i in order { all.append((local[i].0, local[i].1, score, all.count)) }
        }
        all.sort { $0.2 != $1.2 ? $0.2 > $1.2 : $0.3 < $1.3 }
        return all.map { ($0.0, $0.1) }
    }
}
