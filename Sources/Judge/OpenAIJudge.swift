import ChatCompletions
import Evaluation
import OpenAIClient

/// A ``ChatJudge`` over an OpenAI-compatible chat-completions endpoint: each benchmark's judge
/// prompt becomes one request to `model` through `client` (its cache, retries, concurrency limit
/// and key handling live in `OpenAIClient`; the prompts, settings and reply parsers in
/// `Evaluation/Judging`).
public struct OpenAIJudge: ChatJudge {
    /// The judge model every request names (`--judge-model`).
    public let model: String
    public let client: ChatCompletionsClient

    public init(model: String, client: ChatCompletionsClient) {
        self.model = model
        self.client = client
    }

    public func complete(_ prompts: [JudgePrompt]) async throws -> [String] {
        try await client.complete(prompts.map { ChatRequest(model: model, prompt: $0) }, labels: prompts.map(\.label))
    }
}

extension ChatRequest {
    /// The request a judge prompt makes: its messages and sampling settings, for `model`.
    public init(model: String, prompt: JudgePrompt) {
        self.init(model: model, messages: prompt.messages, temperature: prompt.temperature, maxTokens: prompt.maxTokens)
    }
}
