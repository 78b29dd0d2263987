#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Evaluation

/// The body of a `POST …/chat/completions` request. It is also the cache key: everything that
/// decides the reply (model, messages, temperature, max tokens) and nothing secret.
struct ChatRequest: Codable, Equatable, Sendable {
    var model: String
    var messages: [JudgeMessage]
    var temperature: Double
    var maxTokens: Int?

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature
        case maxTokens = "max_tokens"
    }

    init(model: String, prompt: JudgePrompt) {
        self.model = model
        messages = prompt.messages
        temperature = prompt.temperature
        maxTokens = prompt.maxTokens
    }

    /// Canonical JSON (sorted keys), so equal requests have equal bytes.
    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}

/// The parts of a chat-completions reply the judge reads.
struct ChatResponse: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable { let content: String? }
        let message: Message?
    }
    let choices: [Choice]?
    let model: String?

    /// The first choice's text, or why there is none.
    static func text(from body: [UInt8]) -> Result<String, ReplyProblem> {
        let reply: ChatResponse
        do {
            reply = try JSONDecoder().decode(ChatResponse.self, from: Data(body))
        } catch {
            return .failure(ReplyProblem(reason: "not a chat-completions JSON object (\(describe(error)))"))
        }
        guard let choices = reply.choices else { return .failure(ReplyProblem(reason: "no 'choices'")) }
        guard let first = choices.first else { return .failure(ReplyProblem(reason: "'choices' is empty")) }
        guard let content = first.message?.content else {
            return .failure(ReplyProblem(reason: "'choices[0].message.content' is missing or null"))
        }
        return .success(content)
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted: return "invalid JSON"
        case let DecodingError.typeMismatch(_, context): return "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: return "cannot decode"
        }
    }
}

struct ReplyProblem: Error {
    let reason: String
}

/// The `error.message` of an OpenAI-style error body, else the body's start; for error texts.
func serverMessage(_ body: [UInt8]) -> String {
    struct ErrorBody: Decodable {
        struct Inner: Decodable { let message: String? }
        let error: Inner?
    }
    if let parsed = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)), let message = parsed.error?.message {
        return String(message.prefix(300))
    }
    return String(String(decoding: body.prefix(300), as: UTF8.self).prefix(300))
}
