#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Errors of the judge client. Messages name the benchmark question whose request failed; they
/// never contain the API key (server text is redacted before it is kept).
public enum JudgeError: Error, Equatable, Sendable {
    /// Something was not cached and `OPENAI_API_KEY` is not set.
    case missingAPIKey(question: String, uncached: Int)
    /// `--judge-base-url` is not an http(s) URL.
    case invalidBaseURL(String)
    /// The server kept answering with a retryable status (429, 5xx) until the attempts ran out, or
    /// answered with a status that is not worth retrying (400, 401, 404, …).
    case httpStatus(question: String, status: Int, attempts: Int, message: String)
    /// The connection failed (refused, reset, timed out) on every attempt.
    case connection(question: String, attempts: Int, reason: String)
    /// A 2xx reply that is not a chat-completions JSON object with a text message.
    case malformedReply(question: String, reason: String)
    /// The on-disk cache could not be read or written.
    case cache(path: String, reason: String)
}

extension JudgeError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case let .missingAPIKey(question, uncached):
            return "judge: \(uncached) request(s) are not cached (first: \(question)) and OPENAI_API_KEY is not set"
        case let .invalidBaseURL(url):
            return "judge: --judge-base-url '\(url)' is not an http:// or https:// URL"
        case let .httpStatus(question, status, attempts, message):
            let tries = attempts == 1 ? "" : " after \(attempts) attempts"
            return "judge: \(question): HTTP \(status)\(tries)" + (message.isEmpty ? "" : ": \(message)")
        case let .connection(question, attempts, reason):
            return "judge: \(question): cannot reach the judge server after \(attempts) attempt(s): \(reason)"
        case let .malformedReply(question, reason):
            return "judge: \(question): malformed reply: \(reason)"
        case let .cache(path, reason):
            return "judge cache \(path): \(reason)"
        }
    }
}

extension JudgeError: CustomStringConvertible {
    public var description: String { errorDescription ?? "judge error" }
}
