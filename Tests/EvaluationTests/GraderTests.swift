import Foundation
import Testing
@testable import Evaluation

/// Rule graders against hand-computed scores. Every case lists the response and whether the §7
/// rule (or VQA normalisation) accepts it, so the expected numbers can be checked by eye.
struct GraderTests {
    func q(_ id: String, _ answer: String, category: String? = nil, extra: [String: String] = [:], refs: [String] = []) -> BenchmarkQuestion {
        BenchmarkQuestion(id: id, prompt: "p", imagePaths: [], answer: answer, category: category, extra: extra, referenceAnswers: refs)
    }

    @Test func mmvpFixtureReadsAndGrades() throws {
        let mmvp = MMVP(dataRoot: TestSupport.fixtures.appendingPathComponent("mmvp"))
        let questions = try mmvp.questions()
        #expect(questions.count == 12)
        #expect(questions[2].prompt == "Can you see the key \"Z\", or not? (a) Yes (b) No\n" + multipleChoiceInstruction)
        #expect(questions[6].prompt.hasPrefix("Is the bus\ndriving away? (a) Yes"))
        #expect(questions[11].imagePaths == [TestSupport.fixtures.appendingPathComponent("mmvp/MMVP Images/12.jpg").path])
        #expect(questions.map { $0.extra["pair"] ?? "" } == ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "6", "6"])

        let responses = [
            "(a) Open", "b",            // pair 1: both right
            "(b)", "(b)",               // pair 2: right, wrong
            "A", "",                    // pair 3: right, wrong (blank)
            "(a)", "(B) No",            // pair 4: both right
            "B.", "A",                  // pair 5: wrong ("b." ≠ "b"), right
            " (a)", "\n(b)",            // pair 6: both right
        ]
        let scores = try mmvp.grade(zip(questions, responses).map { BenchmarkResponse(question: $0, response: $1) })
        // Right: 1,2,3,5,7,8,10,11,12 = 9 of 12; pairs right: 1, 4, 6 = 3 of 6.
        #expect(close(scores["accuracy"], 9.0 / 12.0))
        #expect(close(scores["paired_accuracy"], 3.0 / 6.0))
        #expect(scores["pairs"] == 6 && scores["questions"] == 12)
    }

    @Test func mmvpRejectsIncompletePairsAndDuplicates() throws {
        let questions = try MMVP(dataRoot: TestSupport.fixtures.appendingPathComponent("mmvp")).questions()
        let mmvp = MMVP(dataRoot: TestSupport.fixtures)
        let partial = questions.prefix(3).map { BenchmarkResponse(question: $0, response: "(a)") }
        #expect(throws: EvaluationError.incompletePair(benchmark: "mmvp", pair: "2", missingID: "4")) { try mmvp.grade(partial) }
        let twice = [questions[0], questions[0]].map { BenchmarkResponse(question: $0, response: "(a)") }
        #expect(throws: EvaluationError.duplicateResponse(benchmark: "mmvp", id: "1")) { try mmvp.grade(twice) }
        #expect(throws: EvaluationError.noResponses(benchmark: "mmvp")) { try mmvp.grade([]) }
    }

    @Test func mmvpLabelFixesSwapTheFourReportedLabels() throws {
        // 280 synthetic rows, all labelled like the public file: odd rows (a), even rows (b).
        var csv = "Index,Question,Options,Correct Answer\n"
        for i in 1...280 { csv += "\(i),Q\(i)?,(a) X (b) Y,\(i % 2 == 1 ? "(a)" : "(b)")\n" }
        let root = try TestSupport.folder(["Questions.csv": csv])
        let plain = try MMVP(dataRoot: root).questions()
        let fixed = try MMVP(dataRoot: root, applyLabelFixes: true).questions()
        let changed = zip(plain, fixed).filter { $0.answer != $1.answer }.map { "\($1.id)=\($1.answer)" }
        #expect(changed == ["99=(b)", "100=(a)", "279=(b)", "280=(a)"])
        // A file that is already corrected is left alone; an unexpected label is an error.
        let corrected = csv.replacingOccurrences(of: "99,Q99?,(a) X (b) Y,(a)", with: "99,Q99?,(a) X (b) Y,(b)")
        let already = try MMVP(dataRoot: try TestSupport.folder(["Questions.csv": corrected]), applyLabelFixes: true).questions()
        #expect(already[98].answer == "(b)")
    }

    func cv(_ id: String, _ source: String, _ task: String, _ answer: String) -> BenchmarkQuestion {
        q(id, answer, category: task, extra: ["source": source, "task": task, "type": source == "Omni3D" ? "3D" : "2D"])
    }

    @Test func cvbench() throws {
        let cases: [(BenchmarkQuestion, String)] = [
            (cv("0", "ADE20K", "Count", "(A)"), "(A)"),              // right
            (cv("1", "ADE20K", "Relation", "(B)"), "(A)"),           // wrong
            (cv("2", "COCO", "Count", "(C)"), "C"),                  // right
            (cv("3", "COCO", "Count", "(D)"), "(d) 0"),              // right
            (cv("4", "COCO", "Relation", "(A)"), "(a)"),             // right
            (cv("5", "COCO", "Relation", "(B)"), "The answer is B"), // wrong
            (cv("6", "Omni3D", "Depth", "(A)"), "(A)"),              // right
            (cv("7", "Omni3D", "Depth", "(B)"), "(A)"),              // wrong
            (cv("8", "Omni3D", "Distance", "(A)"), ""),              // wrong
            (cv("9", "Omni3D", "Distance", "(B)"), "B."),            // wrong
        ]
        let s = try CVBench(dataRoot: TestSupport.fixtures).grade(cases.map { BenchmarkResponse(question: $0, response: $1) })
        #expect(close(s["accuracy_ade20k"], 0.5))
        #expect(close(s["accuracy_coco"], 0.75))
        #expect(close(s["accuracy_omni3d"], 0.25))
        #expect(close(s["accuracy_2d"], 0.625))
        #expect(close(s["accuracy_3d"], 0.25))
        #expect(close(s["accuracy_combined"], 0.4375))
        #expect(close(s["accuracy"], 0.5))
        #expect(close(s["accuracy_count"], 1.0))
        #expect(close(s["accuracy_relation"], 1.0 / 3.0))
        #expect(close(s["accuracy_depth"], 0.5))
        #expect(close(s["accuracy_distance"], 0.0))

        // Only 3D answered: no 2D or combined score is invented.
        let only3D = try CVBench(dataRoot: TestSupport.fixtures).grade(cases.suffix(4).map { BenchmarkResponse(question: $0, response: $1) })
        #expect(only3D["accuracy_2d"] == nil && only3D["accuracy_combined"] == nil)
        #expect(close(only3D["accuracy_3d"], 0.25))
    }

    @Test func realWorldQA() throws {
        let mc = RealWorldQA.multipleChoiceCategory, ff = RealWorldQA.freeFormCategory
        let cases: [(BenchmarkQuestion, String)] = [
            (q("1", "C", category: mc), "C"),              // right
            (q("2", "B", category: mc), "(B)"),            // right
            (q("3", "A", category: mc), "c"),              // wrong
            (q("4", "A", category: mc), "A. The object"),  // wrong: "a. t" → "a.t"
            (q("5", "B", category: mc), "B"),              // right
            (q("6", "Yes", category: ff), "Yes"),          // right
            (q("7", "Yes", category: ff), "yes."),         // right
            (q("8", "2", category: ff), "Two"),            // right
            (q("9", "2", category: ff), "3"),              // wrong
            (q("10", "Green", category: ff), "Green light"), // wrong
            (q("11", "No", category: ff), "No"),           // right
            (q("12", "the", category: ff), ""),            // wrong: an empty target is never matched
        ]
        let s = try RealWorldQA(dataRoot: TestSupport.fixtures).grade(cases.map { BenchmarkResponse(question: $0, response: $1) })
        #expect(close(s["accuracy_multiple_choice"], 3.0 / 5.0))
        #expect(close(s["accuracy_free_form"], 4.0 / 7.0))
        #expect(close(s["accuracy"], 7.0 / 12.0))
        #expect(throws: EvaluationError.self) {
            try RealWorldQA(dataRoot: TestSupport.fixtures).grade([BenchmarkResponse(question: q("x", "A"), response: "A")])
        }
    }

    @Test func scienceQA() throws {
        let cases: [(String, String, Bool)] = [
            ("A", "A", true), ("B", "b", true), ("C", "(C)", true), ("D", "D) x", false), ("E", "E", true),
            ("A", "B", false), ("B", "B. toward", false), ("A", "", false), ("C", " c ", true), ("D", "(d)\n", true),
        ]
        let responses = cases.enumerated().map { BenchmarkResponse(question: q(String($0), $1.0), response: $1.1) }
        for (response, expected) in zip(responses, cases) {
            #expect(MultipleChoice.isCorrect(response: response.response, answer: response.question.answer) == expected.2)
        }
        let s = try ScienceQA(dataRoot: TestSupport.fixtures).grade(responses)
        #expect(close(s["accuracy"], 6.0 / 10.0))
        #expect(s["questions"] == 10)
    }

    @Test func textVQA() throws {
        let cases: [(BenchmarkQuestion, String)] = [
            (q("1", "dakota", refs: VQATests.dakota), "Dakota"),           // 1.0
            (q("2", "dakota", refs: VQATests.dakota), "dakota digital"),   // 0.9
            (q("3", "dakota", refs: VQATests.dakota), "Nous les gosses."), // 0.3
            (q("4", "dakota", refs: VQATests.dakota), "kodak"),            // 0.0
        ]
        let s = try TextVQA(dataRoot: TestSupport.fixtures).grade(cases.map { BenchmarkResponse(question: $0, response: $1) })
        #expect(close(s["accuracy"], (1.0 + 0.9 + 0.3 + 0.0) / 4.0))
        #expect(throws: EvaluationError.ungradable(benchmark: "textvqa", id: "x", reason: "no reference answers")) {
            try TextVQA(dataRoot: TestSupport.fixtures).grade([BenchmarkResponse(question: q("x", "a"), response: "a")])
        }
    }
}
