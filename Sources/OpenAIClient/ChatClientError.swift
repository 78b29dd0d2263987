#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A failure of ``ChatCompletionsClient`` (its cache fails with ``ResponseCacheError``). Messages start with the client's service name (e.g.
/// "judge") and name the request's label; they never contain the API key (server text is
/// redacted before it is kept).
public struct ChatClientError: Error, Equatable, Sendable {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// Something was not cached and no API key was given.
        case missingAPIKey(label: String, uncached: Int)
        /// The base URL is not an http(s) URL.
        case invalidBaseURL(String)
        /// The server kept answering with a retryable status (429, 5xx) until the attempts ran
        /// out, or answered with a status that is not worth retrying (400, 401, 404, …).
        case httpStatus(label: String, status: Int, attempts: Int, message: String)
        /// The connection failed (refused, reset, timed out) on every attempt.
        case connection(label: String, attempts: Int, reason: String)
        /// A 2xx reply that is not a chat-completions JSON object with a text message.
        case malformedReply(label: String, reason: String)
    }

    /// Who was asking ("judge", "dataset builder"): the start of every message.
    public var service: String
    public var kind: Kind

    public init(service: String, _ kind: Kind) {
        self.service = service
        self.kind = kind
    }
}

extension ChatClientError: LocalizedError {
    public var errorDescription: String? {
        switch kind {
        case let .missingAPIKey(label, uncached):
            return "\(service): \(uncached) request(s) are not cached (first: \(label)) and OPENAI_API_KEY is not set"
        case let .invalidBaseURL(url):
            return "\(service): base URL '\(url)' is not an http:// or https:// URL"
        case let .httpStatus(label, status, attempts, message):
            let tries = attempts == 1 ? "" : " after \(attempts) attempts"
            return "\(service): \(label): HTTP \(status)\(tries)" + (message.isEmpty ? "" : ": \(message)")
        case let .connection(label, attempts, reason):
            return "\(service): \(label): cannot reach the server after \(attempts) attempt(s): \(reason)"
        case let .malformedReply(label, reason):
            return "\(service): \(label): malformed reply: \(reason)"
        }
    }
}

extension ChatClientError: CustomStringConvertible {
    public var description: String { errorDescription ?? "\(service) error" }
}
