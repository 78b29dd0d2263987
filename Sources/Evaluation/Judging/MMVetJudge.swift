#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// MM-Vet's GPT grader (yuweihao/MM-Vet `mm-vet_evaluator.py`): a few-shot table prompt, a
/// correctness in 0.0…1.0 read from the reply's first word, up to four re-asks (with a "digit"
/// hint and rising temperature) when that word is not such a number, then 0.0.
///
/// Scores (×100, as the paper reports them): `total`, one key per capability (`rec`, `ocr`, `know`,
/// `gen`, `spat`, `math`: the mean over questions needing it) and one `int_<caps>` key per
/// capability integration (capabilities sorted and joined with "_", e.g. `int_math_ocr`), plus
/// `questions`.
public struct MMVetJudge: JudgeGrader {
    /// `--gpt_model` default of the official evaluator.
    public static let officialModel = "gpt-4-0613"
    /// The official evaluator asks with `max_tokens=3`, starting at temperature 0.
    static let maxTokens = 3
    /// Re-asks after an unparsable reply, at temperatures 0.0, 0.5, 1.0 and 1.5. (The official loop
    /// sends a fifth re-ask at 2.0 but scores 0.0 without reading it; that request is not sent.)
    static let retryTemperatures: [Double] = [0.0, 0.5, 1.0, 1.5]

    public init() {}

    /// The grader prompt for one question, verbatim as the official evaluator builds it: the
    /// few-shot table, a blank line, then `question | answer | prediction | ` with spaces put
    /// around `<AND>` / `<OR>`; a re-ask appends the digit hint.
    public static func prompt(question: String, answer: String, prediction: String, retry: Bool) -> String {
        let spaced = answer.replacingAll("<AND>", with: " <AND> ").replacingAll("<OR>", with: " <OR> ")
        var text = fewShotPrompt + "\n" + [question, spaced, prediction, ""].joined(separator: " | ")
        if retry { text += "\nPredict the correctness of the answer (digit): " }
        return text
    }

    /// The official parse: the text before the first space, stripped, as a Python float in [0, 1].
    public static func parseScore(_ reply: String) -> Double? {
        let first = String(String.UnicodeScalarView(reply.unicodeScalars.prefix { $0 != " " }))
        guard let value = PythonFloat.parse(first), value >= 0, value <= 1 else { return nil }
        return value
    }

    func request(_ r: BenchmarkResponse, retry: Int?) -> JudgePrompt {
        let text = Self.prompt(question: r.question.prompt, answer: r.question.answer, prediction: r.response, retry: retry != nil)
        let temperature = retry.map { Self.retryTemperatures[$0] } ?? 0.0
        return JudgePrompt(label: "mmvet \(r.question.id)", messages: [.user(text)], temperature: temperature, maxTokens: Self.maxTokens)
    }

    public func grade(_ responses: [BenchmarkResponse], judge: any ChatJudge) async throws -> JudgedScores {
        try checkUnique(responses, benchmark: MMVet.name)
        let first = try await judge.complete(responses.map { request($0, retry: nil) })
        var items = zip(first, responses).map { reply, _ in
            JudgedItem(reply: reply, score: Self.parseScore(reply) ?? 0, parsed: Self.parseScore(reply) != nil)
        }
        // Each re-ask round goes out as one batch, so the judge's concurrency limit still applies.
        for round in Self.retryTemperatures.indices {
            let pending = items.indices.filter { !items[$0].parsed }
            if pending.isEmpty { break }
            let replies = try await judge.complete(pending.map { request(responses[$0], retry: round) })
            for (index, reply) in zip(pending, replies) {
                items[index].reply = reply
                items[index].requests += 1
                if let score = Self.parseScore(reply) {
                    items[index].score = score
                    items[index].parsed = true
                }
            }
        }
        return JudgedScores(items: items, scores: Self.aggregate(zip(responses, items).map { ($0.question, $1.score) }))
    }

    /// Totals as the official `export_result`: sums per capability and per capability set over
    /// their question counts, ×100 (not rounded; the official CSV rounds to one decimal).
    public static func aggregate(_ graded: [(question: BenchmarkQuestion, score: Double)]) -> [String: Double] {
        var sums: [String: Double] = [:]
        var counts: [String: Int] = [:]
        for (question, score) in graded {
            let capabilities = Set((question.extra["capabilities"] ?? question.category ?? "")
                .split(separator: ",").map(String.init).filter { !$0.isEmpty })
            var keys = capabilities.sorted()
            keys.append("int_" + capabilities.sorted().joined(separator: "_"))
            keys.append("total")
            for key in keys {
                sums[key, default: 0] += score
                counts[key, default: 0] += 1
            }
        }
        var scores: [String: Double] = ["questions": Double(graded.count)]
        for (key, sum) in sums { scores[key] = sum / Double(counts[key] ?? 1) * 100 }
        return scores
    }

    /// The official `prompt` (mm-vet_evaluator.py), verbatim: benchmark-defined input text.
    static let fewShotPrompt = #"""
        Compare the ground truth and prediction from AI models, to give a correctness score for the prediction. <AND> in the ground truth means it is totally right only when all elements in the ground truth are present in the prediction, and <OR> means it is totally right when any one element in the ground truth is present in the prediction. The correctness score is 0.0 (totally wrong), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, or 1.0 (totally right). Just complete the last space of the correctness score.

        Question | Ground truth | Prediction | Correctness
        --- | --- | --- | ---
        What is x in the equation? | -1 <AND> -5 | x = 3 | 0.0
        What is x in the equation? | -1 <AND> -5 | x = -1 | 0.5
        What is x in the equation? | -1 <AND> -5 | x = -5 | 0.5
        What is x in the equation? | -1 <AND> -5 | x = -5 or 5 | 0.5
        What is x in the equation? | -1 <AND> -5 | x = -1 or x = -5 | 1.0
        Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme talks about Iceland and Greenland. It's pointing out that despite their names, Iceland is not very icy and Greenland isn't very green. | 0.4
        Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme is using humor to point out the misleading nature of Iceland's and Greenland's names. Iceland, despite its name, has lush green landscapes while Greenland is mostly covered in ice and snow. The text 'This is why I have trust issues' is a playful way to suggest that these contradictions can lead to distrust or confusion. The humor in this meme is derived from the unexpected contrast between the names of the countries and their actual physical characteristics. | 1.0

        """#
}

extension String {
    /// Python `str.replace(old, new)` on code points.
    func replacingAll(_ old: String, with new: String) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: PythonText.replace(Array(unicodeScalars), Array(old.unicodeScalars), Array(new.unicodeScalars)))
        return String(out)
    }
}
