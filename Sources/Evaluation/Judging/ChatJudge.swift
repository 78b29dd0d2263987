#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ChatCompletions

/// One request to the judge: the messages and the sampling settings the benchmark's official
/// evaluation script sends. The model is the judge client's business (`--judge-model`).
public struct JudgePrompt: Sendable, Equatable, Hashable {
    /// Names the benchmark question in progress lines and errors, e.g. "mmvet v1_12".
    public var label: String
    public var messages: [ChatMessage]
    public var temperature: Double
    /// nil: the request carries no `max_tokens` (the API default), as MMHal-Bench's script does.
    public var maxTokens: Int?

    public init(label: String, messages: [ChatMessage], temperature: Double, maxTokens: Int? = nil) {
        self.label = label
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
    }
}

/// A chat model that grades answers. The `Judge` module implements it over HTTP (OpenAI-compatible
/// chat completions, retries, cache); tests implement it with canned replies.
public protocol ChatJudge: Sendable {
    /// The reply text to each prompt, in the prompts' order. Throws when a request fails for good.
    func complete(_ prompts: [JudgePrompt]) async throws -> [String]
}

/// The three GPT-judged benchmarks' grading: official prompts in, parsed scores and aggregates out.
public protocol JudgeGrader: Sendable {
    /// The judge model the benchmark's official script uses by default.
    static var officialModel: String { get }
    /// Asks `judge` about every response (in as few batches as the official retry scheme allows)
    /// and aggregates the scores as the benchmark reports them.
    func grade(_ responses: [BenchmarkResponse], judge: any ChatJudge) async throws -> JudgedScores
}

/// What the judge said about one response and the score read from it.
public struct JudgedItem: Sendable, Equatable {
    /// The reply the score was read from (MM-Vet: the last one asked for).
    public var reply: String
    /// The model's score: MM-Vet 0…1, LLaVA-Bench 1…10 (or -1 when unparsable, as the official
    /// parser returns), MMHal-Bench 0…6.
    public var score: Double
    /// LLaVA-Bench: the judge's score for the GPT-4 reference answer; nil elsewhere.
    public var referenceScore: Double?
    /// Whether the reply could be parsed (else `score` is the official fallback).
    public var parsed: Bool
    /// How many judge requests this item took (MM-Vet re-asks about unparsable replies).
    public var requests: Int

    public init(reply: String, score: Double, referenceScore: Double? = nil, parsed: Bool, requests: Int = 1) {
        self.reply = reply
        self.score = score
        self.referenceScore = referenceScore
        self.parsed = parsed
        self.requests = requests
    }
}

/// Per-response judgments (in response order) and the benchmark's aggregate scores.
public struct JudgedScores: Sendable, Equatable {
    public var items: [JudgedItem]
    /// Keys are documented per grader; `questions` is the count graded.
    public var scores: [String: Double]

    public init(items: [JudgedItem], scores: [String: Double]) {
        self.items = items
        self.scores = scores
    }
}

extension BenchmarkName {
    /// The judge grader for a GPT-judged benchmark (nil for the rule-graded ones). LLaVA-Bench reads
    /// its judge rules from `llavabench_gpt_review_rule.json` in `dataRoot`.
    public func makeJudgeGrader(dataRoot: URL) throws -> (any JudgeGrader)? {
        switch self {
        case .mmvet: return MMVetJudge()
        case .llavabench: return try LLaVABenchJudge(ruleFile: dataRoot.appendingPathComponent(LLaVABenchJudge.ruleFileName))
        case .mmhal: return MMHalJudge()
        default: return nil
        }
    }

    /// The official script's default judge model (nil for rule-graded benchmarks).
    public var officialJudgeModel: String? {
        switch self {
        case .mmvet: return MMVetJudge.officialModel
        case .llavabench: return LLaVABenchJudge.officialModel
        case .mmhal: return MMHalJudge.officialModel
        default: return nil
        }
    }
}

/// Checks that a grader was given each question once; returns nothing, throws the first problem.
func checkUnique(_ responses: [BenchmarkResponse], benchmark: String) throws {
    if responses.isEmpty { throw EvaluationError.noResponses(benchmark: benchmark) }
    var seen = Set<String>()
    for r in responses where !seen.insert(r.question.id).inserted {
        throw EvaluationError.duplicateResponse(benchmark: benchmark, id: r.question.id)
    }
}
