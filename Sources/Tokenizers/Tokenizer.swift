#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A HF `tokenizer.json` pipeline: added tokens → normalizer → pre-tokenizer → BPE model →
/// post-processor, and the decoder for the way back. Immutable and safe to share across threads
/// (the per-piece BPE cache is behind a lock).
public final class Tokenizer: Sendable {
    let model: BPEModel
    let normalizer: (any Normalizer)?
    let preTokenizer: (any PreTokenizer)?
    let postProcessor: (any PostProcessor)?
    let decoder: (any TokenDecoder)?
    let added: AddedVocabulary

    /// The transformers-level settings this tokenizer was loaded with.
    public let config: TokenizerConfig
    /// The special tokens declared by tokenizer_config.json / special_tokens_map.json.
    public let bosToken: String?
    public let eosToken: String?
    public let padToken: String?
    public let unkToken: String?
    /// Number of distinct tokens, added ones included (`len(tokenizer)` in transformers).
    public let vocabularySize: Int

    /// Ids of the declared special tokens (nil when undeclared or unknown).
    public var bosTokenID: Int? { bosToken.flatMap(tokenToID) }
    public var eosTokenID: Int? { eosToken.flatMap(tokenToID) }
    public var padTokenID: Int? { padToken.flatMap(tokenToID) }
    public var unkTokenID: Int? { unkToken.flatMap(tokenToID) }
    /// The default chat template of tokenizer_config.json, if any.
    public var chatTemplate: String? { config.chatTemplate?.defaultTemplate }
    /// The added tokens, in file order.
    public var addedTokens: [AddedToken] { added.tokens }

    /// Loads a HF model/tokenizer folder. `addBOS`/`addEOS` override tokenizer_config's
    /// add_bos_token/add_eos_token the way `LlamaTokenizerFast(add_eos_token=True)` does
    /// (LLaVA-1.5 training loads its tokenizer with add_eos_token=True).
    public convenience init(directory: String, addBOS: Bool? = nil, addEOS: Bool? = nil) throws {
        let dir = URL(fileURLWithPath: directory)
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let tokenizerPath = path("tokenizer.json")
        let json = try Self.readJSON(tokenizerPath)
        var config = TokenizerConfig()
        let configPath = path("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: configPath) {
            config = try TokenizerConfig.read(file: configPath)
        }
        let mapPath = path("special_tokens_map.json")
        if FileManager.default.fileExists(atPath: mapPath) {
            config.overlay(try TokenizerConfig.read(file: mapPath))
        }
        var extra: [(String, Int)] = []
        let addedPath = path("added_tokens.json")
        if FileManager.default.fileExists(atPath: addedPath) {
            guard case let .object(members) = try Self.readJSON(addedPath) else {
                throw TokenizerError.invalidField(file: addedPath, field: "(root)", reason: "expected an object")
            }
            for (content, value) in members {
                guard let id = value.integerValue, id >= 0, id < 2_000_000_000 else {
                    throw TokenizerError.invalidField(file: addedPath, field: content, reason: "expected an id")
                }
                extra.append((content, id))
            }
        }
        try self.init(tokenizerJSON: json, file: tokenizerPath, config: config, configFile: configPath,
                      extraAddedTokens: extra, addBOS: addBOS, addEOS: addEOS)
    }

    /// Reads and parses a JSON file, errors naming it.
    static func readJSON(_ path: String) throws -> JSONValue {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.unreadableFile(file: path, reason: "\(error)")
        }
        do {
            return try JSONValue.parse([UInt8](data))
        } catch {
            throw TokenizerError.malformedJSON(file: path, reason: error.description)
        }
    }

    /// Builds the pipeline from a parsed tokenizer.json plus transformers-level settings.
    /// - Parameters:
    ///   - extraAddedTokens: `added_tokens.json` entries (content, id).
    public init(tokenizerJSON json: JSONValue, file: String = "tokenizer.json",
                config: TokenizerConfig = TokenizerConfig(), configFile: String = "tokenizer_config.json",
                extraAddedTokens: [(String, Int)] = [], addBOS: Bool? = nil, addEOS: Bool? = nil) throws {
        guard case .object = json else {
            throw TokenizerError.invalidField(file: file, field: "(root)", reason: "expected an object")
        }
        let normalizer = try makeNormalizer(json["normalizer"] ?? .null, file: file, path: "normalizer")
        let preTokenizer = try makePreTokenizer(json["pre_tokenizer"] ?? .null, file: file, path: "pre_tokenizer")
        var postProcessor = try makePostProcessor(json["post_processor"] ?? .null, file: file, path: "post_processor")
        let decoder = try makeDecoder(json["decoder"] ?? .null, file: file, path: "decoder")
        guard let modelJSON = json["model"] else { throw TokenizerError.missingField(file: file, field: "model") }
        let model = try Self.makeModel(modelJSON, byteLevel: preTokenizer?.isByteLevel ?? false, file: file)

        var addedList: [AddedToken] = []
        if let addedJSON = json["added_tokens"], addedJSON != .null {
            addedList = try JSONValueDecoder.decode([AddedToken].self, from: addedJSON, file: file, path: ["added_tokens"])
        }
        var known = Set(addedList.map { ByteKey($0.content) })
        // Tokens transformers would add on top of tokenizer.json: added_tokens_decoder entries,
        // added_tokens.json entries and declared special tokens that are not there yet.
        for (key, value) in (config.addedTokensDecoder ?? [:]).sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
            guard let id = Int(key), id >= 0 else {
                throw TokenizerError.invalidField(file: configFile, field: "added_tokens_decoder.\(key)", reason: "key is not an id")
            }
            guard !known.contains(ByteKey(value.content)) else { continue }
            let special = value.special ?? false
            addedList.append(AddedToken(id: id, content: value.content, singleWord: value.singleWord ?? false,
                                        lstrip: value.lstrip ?? false, rstrip: value.rstrip ?? false,
                                        normalized: value.normalized ?? !special, special: special))
            known.insert(ByteKey(value.content))
        }
        let declared = [config.bosToken, config.eosToken, config.unkToken, config.padToken].compactMap { $0 }
            + (config.additionalSpecialTokens ?? [])
        let declaredSpecial = Set(declared.map { ByteKey($0.content) })
        for (content, id) in extraAddedTokens.sorted(by: { $0.1 < $1.1 }) where !known.contains(ByteKey(content)) {
            let special = declaredSpecial.contains(ByteKey(content))
            addedList.append(AddedToken(id: id, content: content, normalized: !special, special: special))
            known.insert(ByteKey(content))
        }
        // Declared special tokens already in the list become special (transformers marks them so).
        for i in addedList.indices where declaredSpecial.contains(ByteKey(addedList[i].content)) {
            addedList[i].special = true
        }
        let added = AddedVocabulary(tokens: addedList, normalizer: normalizer)

        func resolve(_ v: TokenizerConfig.TokenValue?) -> String? { v?.content }
        let bos = resolve(config.bosToken), eos = resolve(config.eosToken)
        func idOf(_ t: String) -> Int? {
            added.idByContent[ByteKey(t)] ?? model.tokenIDs[ByteKey(t)].map(Int.init)
        }

        // LlamaTokenizerFast rebuilds its template from add_bos_token/add_eos_token at load time;
        // explicit overrides do the same for any tokenizer.
        let llamaClasses: Set<String> = ["LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer",
                                         "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast"]
        let llamaLike = config.tokenizerClass.map(llamaClasses.contains) ?? false
        if llamaLike || addBOS != nil || addEOS != nil {
            let wantBOS = addBOS ?? config.addBOSToken ?? llamaLike
            let wantEOS = addEOS ?? config.addEOSToken ?? false
            var bosID: Int? = nil, eosID: Int? = nil
            if wantBOS {
                guard let b = bos, let id = idOf(b) else {
                    throw TokenizerError.invalidField(file: configFile, field: "bos_token",
                                                      reason: "add_bos_token is true but no known bos_token is set")
                }
                bosID = id
            }
            if wantEOS {
                guard let e = eos, let id = idOf(e) else {
                    throw TokenizerError.invalidField(file: configFile, field: "eos_token",
                                                      reason: "add_eos_token is true but no known eos_token is set")
                }
                eosID = id
            }
            let template = TemplateProcessing(bosID: bosID, eosID: eosID)
            // Keep offset trimming of a ByteLevel processor; replace any template.
            if let byteLevel = postProcessor as? ByteLevelPostProcessor {
                postProcessor = SequencePostProcessor(stages: [byteLevel, template])
            } else {
                postProcessor = template
            }
        }

        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.added = added
        self.config = config
        self.bosToken = bos
        self.eosToken = eos
        self.padToken = resolve(config.padToken)
        self.unkToken = resolve(config.unkToken) ?? modelJSON["unk_token"].flatMap {
            if case let .string(s) = $0 { return s } else { return nil }
        }
        var size = model.tokenIDs.count
        for t in addedList where model.tokenIDs[ByteKey(t.content)] == nil { size += 1 }
        self.vocabularySize = size
    }

    /// Reads the `model` object; only BPE is implemented.
    static func makeModel(_ json: JSONValue, byteLevel: Bool, file: String) throws -> BPEModel {
        let type = try stageType(json, file: file, path: "model")
        guard type == "BPE" else { throw TokenizerError.unknownType(file: file, field: "model", type: type) }
        func bool(_ key: String) throws -> Bool {
            switch json[key] {
            case nil, .null?: return false
            case let .bool(b)?: return b
            default: throw TokenizerError.invalidField(file: file, field: "model.\(key)", reason: "expected a boolean")
            }
        }
        func string(_ key: String) throws -> String? {
            switch json[key] {
            case nil, .null?: return nil
            case let .string(s)?: return s
            default: throw TokenizerError.invalidField(file: file, field: "model.\(key)", reason: "expected a string")
            }
        }
        // BPE dropout randomises encoding (a training-time augmentation); refuse rather than ignore.
        if let p = json["dropout"]?.numberValue, p > 0 {
            throw TokenizerError.invalidField(file: file, field: "model.dropout", reason: "dropout \(p) is not supported")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = try string(key), !s.isEmpty {
                throw TokenizerError.invalidField(file: file, field: "model.\(key)", reason: "non-empty value is not supported")
            }
        }
        guard let vocabJSON = json["vocab"] else { throw TokenizerError.missingField(file: file, field: "model.vocab") }
        guard case let .object(members) = vocabJSON else {
            throw TokenizerError.invalidField(file: file, field: "model.vocab", reason: "expected an object")
        }
        var vocab: [(String, Int)] = []
        vocab.reserveCapacity(members.count)
        for (token, value) in members {
            guard let id = value.integerValue, id >= 0, id < 2_000_000_000 else {
                throw TokenizerError.invalidField(file: file, field: "model.vocab.\(token)", reason: "expected an id")
            }
            vocab.append((token, id))
        }
        var merges: [(String, String)] = []
        switch json["merges"] {
        case nil, .null?:
            break
        case let .array(items)?:
            merges.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                switch item {
                case let .string(line):
                    let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                    guard parts.count == 2 else {
                        throw TokenizerError.invalidField(file: file, field: "model.merges[\(i)]", reason: "expected 'a b'")
                    }
                    merges.append((String(parts[0]), String(parts[1])))
                case let .array(pair):
                    guard pair.count == 2, case let .string(a) = pair[0], case let .string(b) = pair[1] else {
                        throw TokenizerError.invalidField(file: file, field: "model.merges[\(i)]", reason: "expected two strings")
                    }
                    merges.append((a, b))
                default:
                    throw TokenizerError.invalidField(file: file, field: "model.merges[\(i)]", reason: "expected a string or pair")
                }
            }
        default:
            throw TokenizerError.invalidField(file: file, field: "model.merges", reason: "expected an array")
        }
        return try BPEModel(vocab: vocab, merges: merges, unkToken: try string("unk_token"),
                            fuseUnk: try bool("fuse_unk"), byteFallback: try bool("byte_fallback"),
                            ignoreMerges: try bool("ignore_merges"), byteLevel: byteLevel, file: file)
    }

    // MARK: encoding

    /// Encodes `text`; with `addSpecialTokens` the post-processor adds BOS/EOS as configured.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> Encoding {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = []
        var offsets: [Range<Int>] = []
        ids.reserveCapacity(scalars.count / 3 + 4)
        offsets.reserveCapacity(scalars.count / 3 + 4)
        var triples: [Int32] = []
        let original = AlignedText(original: scalars[...], base: 0)
        for split in added.splitRaw(original) {
            switch split {
            case let .token(token, range):
                ids.append(token.id)
                offsets.append(range)
            case let .text(range):
                let chunk = original.slice(range)
                let normalized = normalizer?.normalize(chunk) ?? chunk
                for inner in added.splitNormalized(normalized) {
                    switch inner {
                    case let .token(token, r):
                        ids.append(token.id)
                        offsets.append(normalized.originalRange(r))
                    case let .text(r):
                        let piece = normalized.slice(r)
                        let pieces = preTokenizer.map { $0.apply([piece]) } ?? [piece]
                        for p in pieces where !p.isEmpty {
                            triples.removeAll(keepingCapacity: true)
                            model.encode(p, into: &triples)
                            var t = 0
                            while t + 2 < triples.count {
                                ids.append(Int(triples[t]))
                                offsets.append(p.originalRange(Int(triples[t + 1])..<Int(triples[t + 2])))
                                t += 3
                            }
                        }
                    }
                }
            }
        }
        var encoding = Encoding(ids: ids, offsets: offsets)
        postProcessor?.process(&encoding, addSpecialTokens: addSpecialTokens, tokenString: { self.idToToken($0) })
        return encoding
    }

    // MARK: decoding

    /// Turns ids back into text; unknown ids are skipped. With `skipSpecialTokens`, added tokens
    /// flagged special are left out.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens && added.specialIDs.contains(id) { continue }
            if let t = idToToken(id) { tokens.append(t) }
        }
        var text = decoder.map { $0.decodeChain(tokens).joined() } ?? tokens.joined(separator: " ")
        if config.cleanUpTokenizationSpaces ?? false { text = Self.cleanUpTokenization(text) }
        return text
    }

    /// transformers' `clean_up_tokenization`: removes the space before punctuation and
    /// contractions.
    static func cleanUpTokenization(_ text: String) -> String {
        var s = text
        for (a, b) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                       (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacing(a, with: b)
        }
        return s
    }

    /// The id of a token string (added tokens first, then the model vocabulary).
    public func tokenToID(_ token: String) -> Int? {
        let key = ByteKey(token)
        if let id = added.idByContent[key] { return id }
        return model.tokenIDs[key].map(Int.init)
    }

    /// The token string of an id (added tokens first, then the model vocabulary).
    public func idToToken(_ id: Int) -> String? {
        if let t = added.tokenByID[id] { return t.content }
        guard id >= 0, id < model.idToToken.count else { return nil }
        return model.idToToken[id]
    }

    /// Whether `id` is an added token flagged special.
    public func isSpecial(_ id: Int) -> Bool { added.specialIDs.contains(id) }
}
