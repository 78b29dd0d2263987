/// A stage turning token strings back into text (`decoder` in tokenizer.json). Like HF's
/// `decode_chain`, each stage maps a list of strings to a list of strings; the results are joined.
protocol TokenDecoder: Sendable {
    func decodeChain(_ tokens: [String]) -> [String]
}

/// Builds a decoder from its tokenizer.json object; `null` means none.
func makeDecoder(_ json: JSONValue, file: String, path: String) throws -> (any TokenDecoder)? {
    if json == .null { return nil }
    let type = try stageType(json, file: file, path: path)
    switch type {
    case "Sequence":
        guard case let .array(items)? = json["decoders"] else {
            throw TokenizerError.missingField(file: file, field: path + ".decoders")
        }
        var stages: [any TokenDecoder] = []
        for (i, item) in items.enumerated() {
            if let stage = try makeDecoder(item, file: file, path: "\(path).decoders[\(i)]") { stages.append(stage) }
        }
        return SequenceDecoder(stages: stages)
    case "ByteLevel":
        return ByteLevelDecoder()
    case "Metaspace":
        return try MetaspaceDecoder(config: decodeStage(json, file: file, path: path), file: file, path: path)
    case "Replace":
        return try ReplaceDecoder(config: decodeStage(json, file: file, path: path), file: file, path: path)
    case "ByteFallback":
        return ByteFallbackDecoder()
    case "Fuse":
        return FuseDecoder()
    case "Strip":
        return try StripDecoder(config: decodeStage(json, file: file, path: path), file: file, path: path)
    default:
        throw TokenizerError.unknownType(file: file, field: path, type: type)
    }
}

/// Runs decoders one after another.
struct SequenceDecoder: TokenDecoder {
    let stages: [any TokenDecoder]
    func decodeChain(_ tokens: [String]) -> [String] {
        stages.reduce(tokens) { $1.decodeChain($0) }
    }
}

/// Joins all tokens into one string.
struct FuseDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}
