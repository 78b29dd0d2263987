#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The chat-completions request as data: what evaluation builds (judge prompts) and what the
// client sends and caches. A target of its own, without networking, so Evaluation can use the
// same types that OpenAIClient puts on the wire.

/// One chat message (an OpenAI chat-completions `messages` entry).
public struct ChatMessage: Codable, Equatable, Hashable, Sendable {
    /// "system", "user" or "assistant".
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
}

/// The body of a `POST …/chat/completions` request. It is also the cache key: everything that
/// decides the reply (model, messages, temperature, max tokens) and nothing secret.
public struct ChatRequest: Codable, Equatable, Hashable, Sendable {
    public var model: String
    public var messages: [ChatMessage]
    public var temperature: Double
    /// nil: the request carries no `max_tokens` (the API's default).
    public var maxTokens: Int?

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature
        case maxTokens = "max_tokens"
    }

    public init(model: String, messages: [ChatMessage], temperature: Double, maxTokens: Int? = nil) {
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
    }

    /// Canonical JSON (sorted keys), so equal requests have equal bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
