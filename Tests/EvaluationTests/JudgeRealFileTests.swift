import Foundation
import Testing
@testable import Evaluation

/// The judge graders on the real question files (`../shared/benchmarks`): every question yields a
/// request, and fixed replies aggregate to hand-computed totals.
@Suite(.enabled(if: TestSupport.runRealFileTests, "../shared/benchmarks not present (required when CI is set)"))
struct JudgeRealFileTests {
    static func responses(_ questions: [BenchmarkQuestion]) -> [BenchmarkResponse] {
        questions.map { BenchmarkResponse(question: $0, response: "x = -1 or 5, {braces} and a <AND> tag") }
    }

    @Test func mmvet() async throws {
        let questions = try MMVet(dataRoot: TestSupport.shared("mm-vet")).questions()
        let judge = ScriptedJudge { _ in "0.5" }
        let result = try await MMVetJudge().grade(Self.responses(questions), judge: judge)
        #expect(judge.sent.count == 218 && result.scores["total"] == 50 && result.scores["questions"] == 218)
        for capability in ["rec", "ocr", "know", "gen", "spat", "math"] { #expect(result.scores[capability] == 50, "\(capability)") }
        #expect(judge.sent.first?.messages.first?.content == (try JudgePromptTests.fixture().mmvet_v1_0))
    }

    @Test func llavaBench() async throws {
        let root = try TestSupport.shared("llava-bench-in-the-wild")
        // The release folder here has no images; the grader only needs the text files.
        let questions = try LLaVABench(dataRoot: root).questions()
        let grader = try #require(try BenchmarkName.llavabench.makeJudgeGrader(dataRoot: root))
        let judge = ScriptedJudge { _ in "8 6\nexplanation" }
        let result = try await grader.grade(Self.responses(questions), judge: judge)
        #expect(judge.sent.count == 60 && result.scores["all"] == 75 && result.scores["conv"] == 75 && result.scores["complex"] == 75)
        #expect(judge.sent.first?.messages.last?.content == (try JudgePromptTests.fixture().llavabench_0))
    }

    @Test func mmhal() async throws {
        let questions = try MMHalBench(dataRoot: TestSupport.shared("mmhal-bench")).questions()
        // The official script groups per type by position modulo 8; in the release that is the type.
        let order = ["attribute", "adversarial", "comparison", "counting", "relation", "environment", "holistic", "other"]
        #expect(questions.count == 96 && questions.enumerated().allSatisfy { $0.element.category == order[$0.offset % 8] })
        let judge = ScriptedJudge { p in p.label.hasSuffix(questions[0].id) ? "Rating: 0" : "Explanation. Rating: 4" }
        let result = try await MMHalJudge().grade(Self.responses(questions), judge: judge)
        #expect(judge.sent.count == 96 && abs((result.scores["score"] ?? 0) - 4.0 * 95 / 96) < 1e-12)
        #expect(result.scores["hallucination_rate"] == 1.0 / 96 && result.scores["hallucination_rate_attribute"] == 1.0 / 12)
        #expect(result.scores["score_attribute"] == 44.0 / 12 && result.scores["score_other"] == 4)
        #expect(judge.sent.first?.messages.first?.content == (try JudgePromptTests.fixture().mmhal))
    }
}
