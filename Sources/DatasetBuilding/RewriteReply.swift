import Tokenizers

/// A validated reply of either rewrite stage: one question, the answer for the first image and
/// the answer for the second.
public struct RewriteReply: Sendable, Equatable {
    public var question: String
    public var answer1: String
    public var answer2: String

    public init(question: String, answer1: String, answer2: String) {
        self.question = question
        self.answer1 = answer1
        self.answer2 = answer2
    }

    static let keys = ["question", "answer_1", "answer_2"]

    /// Why a reply was refused (sent back to the model when it is asked again).
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Parses a reply strictly: after trimming white space it must be one JSON object (a single
    /// surrounding ```json fence is tolerated — chat models add it even when told not to — but
    /// no other text), with exactly the keys `question`, `answer_1`, `answer_2`, each a string
    /// that is non-empty after trimming; the two answers must differ (compared ignoring case,
    /// spacing and a final full stop). Values are stored trimmed.
    public static func parse(_ reply: String) -> Result<RewriteReply, Problem> {
        var text = TextNormalisation.trimmed(reply)
        if text.hasPrefix("```") {
            guard text.hasSuffix("```"), text.count >= 6, let newline = text.firstIndex(of: "\n") else {
                return .failure(Problem("the reply is not a single JSON object"))
            }
            let tag = TextNormalisation.trimmed(String(text[text.index(text.startIndex, offsetBy: 3)..<newline]))
            guard tag.isEmpty || tag.lowercased() == "json" else { return .failure(Problem("the reply is not a single JSON object")) }
            text = TextNormalisation.trimmed(String(text[text.index(after: newline)..<text.index(text.endIndex, offsetBy: -3)]))
        }
        guard let value = try? JSONValue.parse(Array(text.utf8)) else {
            return .failure(Problem("the reply is not valid JSON"))
        }
        guard case let .object(members) = value else { return .failure(Problem("the reply is not a JSON object")) }
        let names = members.map(\.0)
        if Set(names).count != names.count { return .failure(Problem("the JSON object repeats a key")) }
        if let extra = names.first(where: { !keys.contains($0) }) {
            return .failure(Problem("the JSON object has an unexpected key \"\(extra)\""))
        }
        var strings: [String] = []
        for key in keys {
            guard let member = value[key] else { return .failure(Problem("\"\(key)\" is missing")) }
            guard case let .string(s) = member else { return .failure(Problem("\"\(key)\" is not a string")) }
            let trimmed = TextNormalisation.trimmed(s)
            if trimmed.isEmpty { return .failure(Problem("\"\(key)\" is empty")) }
            strings.append(trimmed)
        }
        if TextNormalisation.comparable(strings[1]) == TextNormalisation.comparable(strings[2]) {
            return .failure(Problem("\"answer_1\" and \"answer_2\" are the same; they must differ"))
        }
        return .success(RewriteReply(question: strings[0], answer1: strings[1], answer2: strings[2]))
    }

    /// The reply as the JSON object the prompts ask for (stage 2's input).
    var json: String {
        JSONText.line([("question", .string(question)), ("answer_1", .string(answer1)), ("answer_2", .string(answer2))])
    }
}
