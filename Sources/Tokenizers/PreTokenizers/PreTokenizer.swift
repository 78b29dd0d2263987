/// A stage that cuts normalised text into pieces the model encodes independently
/// (`pre_tokenizer` in tokenizer.json).
protocol PreTokenizer: Sendable {
    /// Appends the pieces `piece` splits into (possibly rewritten) to `out`.
    func split(_ piece: AlignedText, into out: inout [AlignedText])
    /// Whether this stage maps text to GPT-2's byte alphabet (`ByteLevel`), which makes the model
    /// work on UTF-8 bytes.
    var isByteLevel: Bool { get }
    /// Whether the stage leaves every piece as it is (then a Sequence skips it).
    var isIdentity: Bool { get }
}

extension PreTokenizer {
    var isByteLevel: Bool { false }
    var isIdentity: Bool { false }

    /// Runs the stage over every piece.
    func apply(_ pieces: [AlignedText]) -> [AlignedText] {
        var out: [AlignedText] = []
        out.reserveCapacity(pieces.count * 2)
        for p in pieces { split(p, into: &out) }
        return out
    }
}

/// Builds a pre-tokenizer from its tokenizer.json object; `null` means none.
func makePreTokenizer(_ json: JSONValue, file: String, path: String) throws -> (any PreTokenizer)? {
    if json == .null { return nil }
    let type = try stageType(json, file: file, path: path)
    switch type {
    case "Sequence":
        guard case let .array(items)? = json["pretokenizers"] else {
            throw TokenizerError.missingField(file: file, field: path + ".pretokenizers")
        }
        var stages: [any PreTokenizer] = []
        for (i, item) in items.enumerated() {
            if let stage = try makePreTokenizer(item, file: file, path: "\(path).pretokenizers[\(i)]") {
                stages.append(stage)
            }
        }
        return SequencePreTokenizer(stages: stages)
    case "ByteLevel":
        return ByteLevelPreTokenizer(config: try decodeStage(json, file: file, path: path))
    case "Split":
        return try SplitPreTokenizer(config: decodeStage(json, file: file, path: path), file: file, path: path)
    case "Metaspace":
        return try MetaspacePreTokenizer(config: decodeStage(json, file: file, path: path), file: file, path: path)
    case "Digits":
        return DigitsPreTokenizer(config: try decodeStage(json, file: file, path: path))
    case "WhitespaceSplit":
        return WhitespaceSplitPreTokenizer()
    default:
        throw TokenizerError.unknownType(file: file, field: path, type: type)
    }
}

/// Runs pre-tokenizers one after another, each over all pieces of the previous one.
struct SequencePreTokenizer: PreTokenizer {
    let stages: [any PreTokenizer]
    let isByteLevel: Bool
    /// The stages that do something (Qwen2's ByteLevel stage only marks the byte level).
    private let active: [any PreTokenizer]

    init(stages: [any PreTokenizer]) {
        self.stages = stages
        isByteLevel = stages.contains { $0.isByteLevel }
        active = stages.filter { !$0.isIdentity }
    }

    var isIdentity: Bool { active.isEmpty }

    func split(_ piece: AlignedText, into out: inout [AlignedText]) {
        if active.count == 1 {
            active[0].split(piece, into: &out)
            return
        }
        var pieces = [piece]
        for stage in active { pieces = stage.apply(pieces) }
        out.append(contentsOf: pieces)
    }
}

/// Splits on runs of whitespace, dropping them.
struct WhitespaceSplitPreTokenizer: PreTokenizer {
    func split(_ piece: AlignedText, into out: inout [AlignedText]) {
        let ranges = matchRanges(piece) { isWhitespace($0) }
        SplitBehavior.removed.apply(piece, matches: ranges, into: &out)
    }
}

/// Splits digits from the rest: each digit alone, or runs of digits together.
struct DigitsPreTokenizer: PreTokenizer {
    struct Config: Codable, Sendable {
        var individualDigits: Bool = false
        enum CodingKeys: String, CodingKey { case individualDigits = "individual_digits" }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            individualDigits = try c.decodeIfPresent(Bool.self, forKey: .individualDigits) ?? false
        }
    }
    let config: Config

    func split(_ piece: AlignedText, into out: inout [AlignedText]) {
        let isNumber: (Unicode.Scalar) -> Bool = { ScalarClass.of($0) == .number }
        if config.individualDigits {
            var ranges: [Range<Int>] = []
            for k in 0..<piece.count where isNumber(piece.scalar(k)) { ranges.append(k..<(k + 1)) }
            SplitBehavior.isolated.apply(piece, matches: ranges, into: &out)
        } else {
            SplitBehavior.contiguous.apply(piece, matches: matchRanges(piece, isNumber), into: &out)
        }
    }
}

/// Ranges of maximal runs of scalars satisfying `predicate`.
func matchRanges(_ piece: AlignedText, _ predicate: (Unicode.Scalar) -> Bool) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var k = 0
    let n = piece.count
    while k < n {
        if predicate(piece.scalar(k)) {
            let start = k
            while k < n && predicate(piece.scalar(k)) { k += 1 }
            ranges.append(start..<k)
        } else {
            k += 1
        }
    }
    return ranges
}
