import Foundation
import Testing
@testable import Evaluation

/// Score parsing (the official parsers' behaviour, malformed replies included) and aggregation on
/// hand-computed cases.
@Suite struct JudgeScoringTests {
    // MARK: MM-Vet: first space-separated word, a Python float in [0, 1]

    @Test(arguments: [
        ("0.7", 0.7), ("1.0", 1.0), ("0", 0.0), ("1", 1.0), ("0.5 because it names one root", 0.5), (".5", 0.5),
        ("1e-1", 0.1), ("0.2_5", 0.25), ("0.3\n", 0.3), ("+0.4", 0.4),
    ] as [(String, Double)])
    func mmvetParsesScores(reply: String, score: Double) {
        #expect(MMVetJudge.parseScore(reply) == score)
    }

    @Test(arguments: [
        "", " 0.5",  // the first word is empty
        "0.5\nbecause", "Correctness: 0.4", "0.5.", "1.5", "-0.1", "0_5",  // 0_5 is 5.0 in Python: out of range
        "nan",  // Python accepts NaN here (no comparison is true); it is treated as unreadable instead
        "inf", "one", "0.5,",
    ])
    func mmvetRejectsMalformedScores(reply: String) {
        #expect(MMVetJudge.parseScore(reply) == nil)
    }

    // MARK: LLaVA-Bench: two numbers on the first line

    @Test(arguments: [
        ("8 7\nAssistant 1 is more detailed.", 8.0, 7.0), ("8,7", 8, 7), ("8.5 6", 8.5, 6), ("10 9\r\nrest", 10, 9),
        ("9 9", 9, 9), ("1 10\n", 1, 10), ("7,5\n\n8 8", 7, 5),
    ] as [(String, Double, Double)])
    func llavaParsesScorePairs(reply: String, reference: Double, model: Double) {
        let pair = LLaVABenchJudge.parseScores(reply)
        #expect(pair?.reference == reference && pair?.model == model)
    }

    @Test(arguments: [
        "8, 7",  // the comma becomes a space: three fields
        "8 7 ", " 8 7", "Assistant 1: 8", "9\n8", "", "8 seven", "7\t6", "8 7 6", "Scores: 8 7",
    ])
    func llavaRejectsMalformedPairs(reply: String) {
        #expect(LLaVABenchJudge.parseScores(reply) == nil)
    }

    // MARK: MMHal-Bench: exactly one "rating: s" (s in 0…6) in the lower-cased reply

    @Test(arguments: [
        ("The response is accurate.\nRating: 4, somewhat informative, no hallucination", 4.0), ("rating: 6", 6), ("RATING: 2", 2),
        ("rating: 0", 0), ("Rating: 3. Final answer, Rating: 3", 3),
        ("Rating: 60", 6),  // substring search, as the official script
    ] as [(String, Double)])
    func mmhalParsesRatings(reply: String, rating: Double) {
        #expect(MMHalJudge.parseRating(reply) == rating)
    }

    @Test(arguments: ["Rating: 5\nRating: 3", "Rating:4", "The rating is 4", "", "Rating: 7", "Ratings: [4]"])
    func mmhalRejectsMissingOrSeveralRatings(reply: String) {
        #expect(MMHalJudge.parseRating(reply) == nil)
    }

    // MARK: aggregation

    static func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 } ?? false }

    @Test func mmvetAggregatesCapabilitiesAndIntegrations() {
        let rows: [(String, Double)] = [
            ("rec", 1.0), ("rec", 0.5), ("ocr,math", 0.0), ("ocr,math", 1.0), ("rec,know", 0.4), ("rec,know,gen", 0.6),
            ("ocr", 0.9), ("spat,rec", 0.3), ("math,ocr", 0.5), ("rec", 0.0),
        ]
        let graded = rows.enumerated().map { i, row in
            (BenchmarkQuestion(id: "v1_\(i)", prompt: "q", imagePaths: [], answer: "a", category: row.0, extra: ["capabilities": row.0]), row.1)
        }
        let s = MMVetJudge.aggregate(graded)
        let expected: [String: Double] = [
            "questions": 10, "total": 52, "rec": 2.8 / 6 * 100, "ocr": 60, "math": 50, "know": 50, "gen": 60, "spat": 30,
            "int_rec": 50, "int_math_ocr": 50, "int_know_rec": 40, "int_gen_know_rec": 60, "int_ocr": 90, "int_rec_spat": 30,
        ]
        #expect(Set(s.keys) == Set(expected.keys))
        for (k, v) in expected { #expect(Self.close(s[k], v), "\(k): \(s[k] ?? -1) vs \(v)") }
    }

    @Test func llavaAggregatesRelativeScoresWithRoundedMeans() {
        let rows: [(String, Double, Double)] = [
            ("conv", 8, 6), ("conv", 9, 9), ("conv", 7, 7),
            ("detail", 8, 4), ("detail", -1, -1), ("detail", 10, 5),  // an unparsed review counts as (-1, -1)
            ("complex", 9, 8), ("complex", 8, 8), ("complex", 7, 9), ("complex", 10, 10),
        ]
        let s = LLaVABenchJudge.aggregate(rows.map { (category: $0.0, reference: $0.1, model: $0.2) })
        // Means are rounded to 3 decimals before the ratio: conv 7.333 / 8, detail 2.667 / 5.667.
        #expect(Self.close(s["conv"], 7.333 / 8 * 100))
        #expect(Self.close(s["detail"], 2.667 / 5.667 * 100))
        #expect(Self.close(s["complex"], 8.75 / 8.5 * 100))
        #expect(Self.close(s["all"], 6.5 / 7.5 * 100))
        #expect(s["conv_model"] == 7.333 && s["conv_gpt4"] == 8 && s["detail_gpt4"] == 5.667 && s["all_model"] == 6.5)
        #expect(s["questions"] == 10 && s.count == 13)
    }

    @Test func mmhalAggregatesScoreAndHallucinationRate() {
        let rows: [(String, Double)] = [
            ("attribute", 6), ("attribute", 2), ("adversarial", 0), ("adversarial", 3), ("counting", 5), ("counting", 4),
            ("counting", 1), ("relation", 3), ("holistic", 2), ("holistic", 6),
        ]
        let s = MMHalJudge.aggregate(rows.map { (type: $0.0, rating: $0.1) })
        let expected: [String: Double] = [
            "questions": 10, "score": 3.2, "hallucination_rate": 0.4,
            "score_attribute": 4, "hallucination_rate_attribute": 0.5, "score_adversarial": 1.5, "hallucination_rate_adversarial": 0.5,
            "score_counting": 10.0 / 3, "hallucination_rate_counting": 1.0 / 3, "score_relation": 3, "hallucination_rate_relation": 0,
            "score_holistic": 4, "hallucination_rate_holistic": 0.5,
        ]
        #expect(Set(s.keys) == Set(expected.keys))
        for (k, v) in expected { #expect(Self.close(s[k], v), "\(k)") }
    }

    // MARK: grading with a scripted judge

    static func question(_ id: String, caps: String = "rec") -> BenchmarkQuestion {
        BenchmarkQuestion(id: id, prompt: "Q \(id)", imagePaths: [], answer: "A \(id)", category: caps, extra: ["capabilities": caps])
    }

    @Test func mmvetReasksUnparsableRepliesAsTheOfficialEvaluator() async throws {
        // a: readable at once; b: readable on the first re-ask; c: never readable (five asks, then 0.0).
        let judge = ScriptedJudge { p in
            let text = p.messages[0].content
            if text.contains("Q a |") { return "0.8" }
            if text.contains("Q b |") { return text.hasSuffix("(digit): ") ? "0.6" : "The answer" }
            return "unsure"
        }
        let responses = ["a", "b", "c"].map { BenchmarkResponse(question: Self.question($0), response: "r") }
        let result = try await MMVetJudge().grade(responses, judge: judge)
        #expect(result.items.map(\.score) == [0.8, 0.6, 0])
        #expect(result.items.map(\.parsed) == [true, true, false])
        #expect(result.items.map(\.requests) == [1, 2, 5])
        #expect(result.items[2].reply == "unsure")
        let asked = judge.sent.filter { $0.label == "mmvet c" }
        #expect(asked.map(\.temperature) == [0, 0, 0.5, 1.0, 1.5])
        #expect(asked.dropFirst().allSatisfy { $0.messages[0].content.hasSuffix("\nPredict the correctness of the answer (digit): ") })
        #expect(Self.close(result.scores["total"], (0.8 + 0.6) / 3 * 100))
    }

    @Test func gradersRefuseDuplicateAndEmptyInput() async throws {
        let judge = ScriptedJudge { _ in "0.5" }
        let r = BenchmarkResponse(question: Self.question("x"), response: "r")
        await #expect(throws: EvaluationError.duplicateResponse(benchmark: "mmvet", id: "x")) {
            try await MMVetJudge().grade([r, r], judge: judge)
        }
        await #expect(throws: EvaluationError.noResponses(benchmark: "mmhal")) {
            try await MMHalJudge().grade([], judge: judge)
        }
        #expect(judge.sent.isEmpty)
    }

    @Test func llavaGradeKeepsBothScoresPerItem() async throws {
        let rule = LLaVABenchJudge.Rule(role: "Assistant", prompt: "Rate.")
        let grader = LLaVABenchJudge(rules: ["llava_bench_conv": rule, "llava_bench_detail": rule])
        let judge = ScriptedJudge { p in p.label == "llavabench 1" ? "9 6\nok" : "no scores here" }
        let responses = [("1", "conv"), ("2", "detail")].map { id, cat in
            BenchmarkResponse(question: BenchmarkQuestion(id: id, prompt: "Q", imagePaths: [], answer: "A", category: cat,
                                                          extra: ["caption": "c"]), response: "r")
        }
        let result = try await grader.grade(responses, judge: judge)
        #expect(result.items[0] == JudgedItem(reply: "9 6\nok", score: 6, referenceScore: 9, parsed: true))
        #expect(result.items[1] == JudgedItem(reply: "no scores here", score: -1, referenceScore: -1, parsed: false))
        #expect(Self.close(result.scores["conv"], 6.0 / 9 * 100) && result.scores["detail"] == 100)
        #expect(Self.close(result.scores["all"], 2.5 / 4 * 100))
    }
}
