/// A split/replace pattern as tokenizer.json spells it: `{"String": "…"}` or `{"Regex": "…"}`.
enum SplitPattern: Codable, Sendable, Equatable {
    case string(String)
    case regex(String)

    enum CodingKeys: String, CodingKey {
        case string = "String", regex = "Regex"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let s = try c.decodeIfPresent(String.self, forKey: .string) {
            self = .string(s)
        } else if let r = try c.decodeIfPresent(String.self, forKey: .regex) {
            self = .regex(r)
        } else {
            throw DecodingError.keyNotFound(
                CodingKeys.string, .init(codingPath: decoder.codingPath, debugDescription: "String or Regex"))
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .string(s): try c.encode(s, forKey: .string)
        case let .regex(r): try c.encode(r, forKey: .regex)
        }
    }
}
