/// A text rewrite applied before pre-tokenisation (`normalizer` in tokenizer.json).
protocol Normalizer: Sendable {
    /// Rewrites `text`, carrying each output scalar's original range along.
    func normalize(_ text: AlignedText) -> AlignedText
}

/// Builds a normalizer from its tokenizer.json object; `null` means none.
func makeNormalizer(_ json: JSONValue, file: String, path: String) throws -> (any Normalizer)? {
    if json == .null { return nil }
    let type = try stageType(json, file: file, path: path)
    switch type {
    case "Sequence":
        guard case let .array(items)? = json["normalizers"] else {
            throw TokenizerError.missingField(file: file, field: path + ".normalizers")
        }
        var stages: [any Normalizer] = []
        for (i, item) in items.enumerated() {
            if let stage = try makeNormalizer(item, file: file, path: "\(path).normalizers[\(i)]") {
                stages.append(stage)
            }
        }
        return SequenceNormalizer(stages: stages)
    case "NFC":
        return NFCNormalizer()
    case "Prepend":
        return try PrependNormalizer(config: decodeStage(json, file: file, path: path))
    case "Replace":
        return try ReplaceNormalizer(config: decodeStage(json, file: file, path: path), file: file, path: path)
    case "Lowercase":
        return LowercaseNormalizer()
    case "Strip":
        return StripNormalizer(config: try decodeStage(json, file: file, path: path))
    default:
        throw TokenizerError.unknownType(file: file, field: path, type: type)
    }
}

/// Runs normalizers one after another.
struct SequenceNormalizer: Normalizer {
    let stages: [any Normalizer]
    func normalize(_ text: AlignedText) -> AlignedText {
        stages.reduce(text) { $1.normalize($0) }
    }
}

/// Reads the `type` member every pipeline stage object carries.
func stageType(_ json: JSONValue, file: String, path: String) throws -> String {
    guard case .object = json else {
        throw TokenizerError.invalidField(file: file, field: path, reason: "expected an object, found \(json.kindName)")
    }
    guard let t = json["type"] else { throw TokenizerError.missingField(file: file, field: path + ".type") }
    guard case let .string(type) = t else {
        throw TokenizerError.invalidField(file: file, field: path + ".type", reason: "expected a string")
    }
    return type
}

/// Decodes a stage's `Codable` config, errors naming the file and the stage's path.
func decodeStage<T: Decodable>(_ json: JSONValue, file: String, path: String) throws -> T {
    try JSONValueDecoder.decode(T.self, from: json, file: file, path: path.split(separator: ".").map(String.init))
}
