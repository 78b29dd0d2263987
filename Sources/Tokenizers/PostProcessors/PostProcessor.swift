/// A stage run on the encoded ids (`post_processor` in tokenizer.json): adds BOS/EOS and the like,
/// or adjusts offsets.
protocol PostProcessor: Sendable {
    /// Rewrites `encoding`. `tokenString` maps an id to its token text (for offset trimming).
    func process(_ encoding: inout Encoding, addSpecialTokens: Bool, tokenString: (Int) -> String?)
}

/// Builds a post-processor from its tokenizer.json object; `null` means none.
func makePostProcessor(_ json: JSONValue, file: String, path: String) throws -> (any PostProcessor)? {
    if json == .null { return nil }
    let type = try stageType(json, file: file, path: path)
    switch type {
    case "Sequence":
        guard case let .array(items)? = json["processors"] else {
            throw TokenizerError.missingField(file: file, field: path + ".processors")
        }
        var stages: [any PostProcessor] = []
        for (i, item) in items.enumerated() {
            if let stage = try makePostProcessor(item, file: file, path: "\(path).processors[\(i)]") {
                stages.append(stage)
            }
        }
        return SequencePostProcessor(stages: stages)
    case "TemplateProcessing":
        return try TemplateProcessing(config: decodeStage(json, file: file, path: path), file: file, path: path)
    case "ByteLevel":
        return ByteLevelPostProcessor(config: try decodeStage(json, file: file, path: path))
    default:
        throw TokenizerError.unknownType(file: file, field: path, type: type)
    }
}

/// Runs post-processors one after another.
struct SequencePostProcessor: PostProcessor {
    let stages: [any PostProcessor]
    func process(_ encoding: inout Encoding, addSpecialTokens: Bool, tokenString: (Int) -> String?) {
        for stage in stages { stage.process(&encoding, addSpecialTokens: addSpecialTokens, tokenString: tokenString) }
    }
}

/// GPT-2's byte-level post-processor: with `trim_offsets`, offsets leave out the leading and
/// trailing spaces (`Ġ`) a token carries. Adds no tokens.
struct ByteLevelPostProcessor: PostProcessor {
    struct Config: Codable, Sendable {
        var trimOffsets: Bool = true
        var addPrefixSpace: Bool = true
        enum CodingKeys: String, CodingKey { case trimOffsets = "trim_offsets", addPrefixSpace = "add_prefix_space" }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            trimOffsets = try c.decodeIfPresent(Bool.self, forKey: .trimOffsets) ?? true
            addPrefixSpace = try c.decodeIfPresent(Bool.self, forKey: .addPrefixSpace) ?? true
        }
    }

    let config: Config

    func process(_ encoding: inout Encoding, addSpecialTokens: Bool, tokenString: (Int) -> String?) {
        guard config.trimOffsets else { return }
        let space = ByteLevelAlphabet.scalarForByte[0x20]
        func isSpace(_ s: Unicode.Scalar) -> Bool { s == space || isWhitespace(s) }
        for i in encoding.ids.indices {
            guard let token = tokenString(encoding.ids[i]) else { continue }
            let scalars = Array(token.unicodeScalars)
            var leading = scalars.prefix(while: isSpace).count
            let trailing = scalars.reversed().prefix(while: isSpace).count
            var r = encoding.offsets[i]
            if leading > 0 {
                let isFirst = i == 0 || r.lowerBound == 0
                if isFirst && config.addPrefixSpace && leading == 1 { leading = 0 }
                let lo = min(r.lowerBound + leading, r.upperBound)
                r = lo..<r.upperBound
            }
            if trailing > 0 && r.upperBound >= trailing {
                let hi = max(r.upperBound - trailing, r.lowerBound)
                r = r.lowerBound..<hi
            }
            encoding.offsets[i] = r
        }
    }
}
