/// Wraps a single sequence in special tokens, e.g. `<s> $A` for Llama (`TemplateProcessing`).
/// Only the `single` template is used: svco never encodes sentence pairs. Added tokens get the
/// empty offset range 0..<0, as HF reports (0, 0).
struct TemplateProcessing: PostProcessor {
    enum Piece: Codable, Sendable, Equatable {
        case sequence(String)
        case special(String)

        enum CodingKeys: String, CodingKey { case sequence = "Sequence", special = "SpecialToken" }
        struct Inner: Codable, Sendable {
            var id: String
            enum CodingKeys: String, CodingKey { case id }
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let s = try c.decodeIfPresent(Inner.self, forKey: .sequence) {
                self = .sequence(s.id)
            } else if let s = try c.decodeIfPresent(Inner.self, forKey: .special) {
                self = .special(s.id)
            } else {
                throw DecodingError.keyNotFound(
                    CodingKeys.sequence, .init(codingPath: decoder.codingPath, debugDescription: "Sequence or SpecialToken"))
            }
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case let .sequence(id): try c.encode(Inner(id: id), forKey: .sequence)
            case let .special(id): try c.encode(Inner(id: id), forKey: .special)
            }
        }
    }

    struct SpecialToken: Codable, Sendable {
        var id: String
        var ids: [Int]
        enum CodingKeys: String, CodingKey { case id, ids }
    }

    struct Config: Codable, Sendable {
        var single: [Piece]
        var specialTokens: [String: SpecialToken]
        enum CodingKeys: String, CodingKey { case single, specialTokens = "special_tokens" }
    }

    /// The template with special pieces already resolved to ids (nil = the sequence).
    let items: [[Int]?]

    init(config: Config, file: String, path: String) throws {
        var items: [[Int]?] = []
        for piece in config.single {
            switch piece {
            case .sequence:
                items.append(nil)
            case let .special(name):
                guard let token = config.specialTokens[name] else {
                    throw TokenizerError.invalidField(file: file, field: path + ".special_tokens",
                                                      reason: "template token '\(name)' is not defined")
                }
                items.append(token.ids)
            }
        }
        self.items = items
    }

    /// A template `[bos?] $A [eos?]`, as LlamaTokenizerFast builds from add_bos/add_eos.
    init(bosID: Int?, eosID: Int?) {
        var items: [[Int]?] = []
        if let b = bosID { items.append([b]) }
        items.append(nil)
        if let e = eosID { items.append([e]) }
        self.items = items
    }

    func process(_ encoding: inout Encoding, addSpecialTokens: Bool, tokenString: (Int) -> String?) {
        guard addSpecialTokens else { return }
        var out = Encoding(ids: [], offsets: [])
        out.ids.reserveCapacity(encoding.ids.count + 2)
        out.offsets.reserveCapacity(encoding.ids.count + 2)
        for item in items {
            if let specials = item {
                out.ids.append(contentsOf: specials)
                out.offsets.append(contentsOf: Array(repeating: 0..<0, count: specials.count))
            } else {
                out.ids.append(contentsOf: encoding.ids)
                out.offsets.append(contentsOf: encoding.offsets)
            }
        }
        encoding = out
    }
}
