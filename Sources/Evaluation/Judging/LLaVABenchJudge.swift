#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// LLaVA-Bench-in-the-Wild's GPT review (haotian-liu/LLaVA `llava/eval/eval_gpt_review_bench.py`
/// and `summarize_gpt_review.py`): the judge sees the image's caption, the question, GPT-4's
/// reference answer as Assistant 1 and the model's answer as Assistant 2, and puts both scores
/// (1…10) on its first line. An unparsable first line scores (-1, -1), which the official summary
/// averages in as it is; there are no re-asks.
///
/// Scores: for each category (`conv`, `detail`, `complex`) and `all`, the relative score
/// 100 · mean(model) / mean(GPT-4) with both means rounded to 3 decimals first (as the official
/// summary does; it then prints one decimal, this keeps full precision), plus the means
/// themselves as `<category>_model` and `<category>_gpt4`, and `questions`.
public struct LLaVABenchJudge: JudgeGrader {
    /// The model hard-coded in the official review script.
    public static let officialModel = "gpt-4-0314"
    public static let ruleFileName = "llavabench_gpt_review_rule.json"
    static let systemPrompt = "You are a helpful and precise assistant for checking the quality of the answer."
    static let temperature = 0.2
    /// `--max-tokens` default of the official script.
    static let maxTokens = 1024

    /// The judge rule (`role`, `prompt`) per rule-file key (`llava_bench_conv`, …).
    public var rules: [String: Rule]

    public struct Rule: Sendable, Equatable, Decodable {
        public var role: String
        public var prompt: String
    }

    /// Reads the benchmark's judge rule file (`llavabench_gpt_review_rule.json` in the release
    /// folder; LLaVA ships it as `llava/eval/table/rule.json`).
    public init(ruleFile: URL) throws {
        rules = try JSONRecords.decodeDocument([String: Rule].self, from: ruleFile)
    }

    public init(rules: [String: Rule]) { self.rules = rules }

    /// The review request for one response, built as the official script builds it. The caption
    /// goes through Python's `'\n'.join(caption)`: the release's captions are strings, so every
    /// character ends up on its own line, exactly as the published scores were judged.
    public func prompt(_ r: BenchmarkResponse) throws -> JudgePrompt {
        let q = r.question
        let category = "llava_bench_" + (q.category ?? "")
        guard let rule = rules[category] else {
            throw EvaluationError.ungradable(benchmark: LLaVABench.name, id: q.id,
                                             reason: "category '\(category)' is not in \(Self.ruleFileName)")
        }
        guard let caption = q.extra["caption"] else {
            throw EvaluationError.ungradable(benchmark: LLaVABench.name, id: q.id, reason: "no caption (context.jsonl)")
        }
        let captionLines = caption.unicodeScalars.map { String($0) }.joined(separator: "\n")
        let role = rule.role
        let content = "[Context]\n\(captionLines)\n\n"
            + "[Question]\n\(q.prompt)\n\n"
            + "[\(role) 1]\n\(q.answer)\n\n[End of \(role) 1]\n\n"
            + "[\(role) 2]\n\(r.response)\n\n[End of \(role) 2]\n\n"
            + "[System]\n\(rule.prompt)\n\n"
        return JudgePrompt(label: "llavabench \(q.id)", messages: [.system(Self.systemPrompt), .user(content)],
                           temperature: Self.temperature, maxTokens: Self.maxTokens)
    }

    /// The official `parse_score`: the first line, commas made spaces, split on single spaces;
    /// exactly two Python floats or nil.
    public static func parseScores(_ reply: String) -> (reference: Double, model: Double)? {
        // On code points, as Python splits: "\r\n" is one Swift Character but two code points.
        let firstLine = reply.unicodeScalars.prefix { $0 != "\n" }.map { $0 == "," ? " " : $0 }
        let parts = firstLine.split(separator: " ", omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)) }
        guard parts.count == 2, let a = PythonFloat.parse(parts[0]), let b = PythonFloat.parse(parts[1]) else { return nil }
        return (a, b)
    }

    public func grade(_ responses: [BenchmarkResponse], judge: any ChatJudge) async throws -> JudgedScores {
        try checkUnique(responses, benchmark: LLaVABench.name)
        let replies = try await judge.complete(try responses.map(prompt))
        let items = replies.map { reply in
            let pair = Self.parseScores(reply)
            return JudgedItem(reply: reply, score: pair?.model ?? -1, referenceScore: pair?.reference ?? -1, parsed: pair != nil)
        }
        let scores = Self.aggregate(zip(responses, items).map { ($0.question.category ?? "", $1.referenceScore ?? -1, $1.score) })
        return JudgedScores(items: items, scores: scores)
    }

    /// The official summary per category and over all: means of the (reference, model) pairs,
    /// each rounded to 3 decimals, then 100 · model / reference.
    public static func aggregate(_ graded: [(category: String, reference: Double, model: Double)]) -> [String: Double] {
        var groups: [String: [(Double, Double)]] = [:]
        for g in graded {
            groups[g.category, default: []].append((g.reference, g.model))
            groups["all", default: []].append((g.reference, g.model))
        }
        var scores: [String: Double] = ["questions": Double(graded.count)]
        for (key, pairs) in groups {
            let n = Double(pairs.count)
            let reference = PythonFloat.round(pairs.reduce(0) { $0 + $1.0 } / n, 3)
            let model = PythonFloat.round(pairs.reduce(0) { $0 + $1.1 } / n, 3)
            scores[key + "_gpt4"] = reference
            scores[key + "_model"] = model
            // A zero reference mean only happens with nothing parsed; Python would divide by zero.
            scores[key] = reference == 0 ? 0 : model / reference * 100
        }
        return scores
    }
}
