#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ChatCompletions
import DecodingDiagnostics

/// The parts of a chat-completions reply the client reads.
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

    /// Short: a server's reply is not the user's file, so no decoder prose.
    static func describe(_ error: any Error) -> String {
        guard let failure = DecodingFailure(error) else { return "cannot decode" }
        switch failure.kind {
        case .invalid: return "invalid JSON"
        case .wrongType: return "wrong type at '\(failure.field)'"
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
