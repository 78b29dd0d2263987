import Foundation
import Testing
@testable import Evaluation

/// The judge prompts against the official scripts' own prompt texts, filled for one real question
/// of each benchmark (Fixtures/judge/prompts.json, made by make_judge_prompts.py from the official
/// evaluation scripts).
@Suite struct JudgePromptTests {
    struct Fixture: Decodable {
        struct MMVetInput: Decodable { let question, answer: String }
        struct LLaVAInput: Decodable {
            let question, answer, caption, category: String
            let rule: LLaVABenchJudge.Rule
        }
        struct MMHalInput: Decodable {
            let image_id, question, gt_answer, question_type: String
            let image_content: [String]
        }
        let response: String
        let mmvet_v1_0_input: MMVetInput
        let mmvet_v1_0: String
        let mmvet_v1_0_retry: String
        let llavabench_0_input: LLaVAInput
        let llavabench_0: String
        let mmhal_input: MMHalInput
        let mmhal: String
    }

    static func fixture() throws -> Fixture {
        let url = TestSupport.fixtures.appendingPathComponent("judge/prompts.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    @Test func mmvetPromptIsTheOfficialOne() throws {
        let f = try Self.fixture()
        let prompt = MMVetJudge.prompt(question: f.mmvet_v1_0_input.question, answer: f.mmvet_v1_0_input.answer,
                                       prediction: f.response, retry: false)
        #expect(prompt == f.mmvet_v1_0)
        let retry = MMVetJudge.prompt(question: f.mmvet_v1_0_input.question, answer: f.mmvet_v1_0_input.answer,
                                      prediction: f.response, retry: true)
        #expect(retry == f.mmvet_v1_0_retry)
        // Hand-checked tail: spaced <AND>, the prediction, and the empty last cell.
        #expect(prompt.hasSuffix("| 1.0\n\nWhat is x in the equation? | -1 <AND> -5 | \(f.response) | "))
    }

    @Test func mmvetRequestSettings() async throws {
        let f = try Self.fixture()
        let q = BenchmarkQuestion(id: "v1_0", prompt: f.mmvet_v1_0_input.question, imagePaths: [], answer: f.mmvet_v1_0_input.answer,
                                  category: "ocr,math", extra: ["capabilities": "ocr,math"])
        let judge = ScriptedJudge { _ in "0.5" }
        _ = try await MMVetJudge().grade([BenchmarkResponse(question: q, response: f.response)], judge: judge)
        let sent = judge.sent
        #expect(sent.count == 1)
        #expect(sent.first == JudgePrompt(label: "mmvet v1_0", messages: [.user(f.mmvet_v1_0)], temperature: 0, maxTokens: 3))
    }

    @Test func llavaBenchPromptIsTheOfficialOne() throws {
        let f = try Self.fixture()
        let input = f.llavabench_0_input
        let judge = LLaVABenchJudge(rules: ["llava_bench_conv": input.rule])
        let q = BenchmarkQuestion(id: "0", prompt: input.question, imagePaths: [], answer: input.answer, category: input.category,
                                  extra: ["caption": input.caption])
        let prompt = try judge.prompt(BenchmarkResponse(question: q, response: f.response))
        #expect(prompt.messages == [
            .system("You are a helpful and precise assistant for checking the quality of the answer."), .user(f.llavabench_0),
        ])
        #expect(prompt.temperature == 0.2 && prompt.maxTokens == 1024 && prompt.label == "llavabench 0")
        // Hand-checked: the caption string goes through '\n'.join, one character per line.
        #expect(f.llavabench_0.hasPrefix("[Context]\nA\nn\n \na\ne\nr\ni\na\nl\n"))
        // A category without a rule is a clear error, not a crash.
        var odd = q
        odd.category = "other"
        #expect(throws: EvaluationError.ungradable(benchmark: "llavabench", id: "0",
                                                   reason: "category 'llava_bench_other' is not in llavabench_gpt_review_rule.json")) {
            try judge.prompt(BenchmarkResponse(question: odd, response: "x"))
        }
    }

    @Test func mmhalPromptIsTheOfficialOne() async throws {
        let f = try Self.fixture()
        let input = f.mmhal_input
        let text = MMHalJudge.prompt(imageContent: input.image_content.joined(separator: ", "), question: input.question,
                                     answer: input.gt_answer, response: f.response)
        #expect(text == f.mmhal)
        #expect(text.hasSuffix("### LMM Response to Evaluate\n\(f.response)\n"))
        let q = BenchmarkQuestion(id: input.image_id, prompt: input.question, imagePaths: [], answer: input.gt_answer,
                                  category: input.question_type, extra: ["image_content": input.image_content.joined(separator: ", ")])
        let judge = ScriptedJudge { _ in "Rating: 5" }
        _ = try await MMHalJudge().grade([BenchmarkResponse(question: q, response: f.response)], judge: judge)
        #expect(judge.sent == [JudgePrompt(label: "mmhal df62a56fdc1bb12b", messages: [.user(f.mmhal)], temperature: 0, maxTokens: nil)])
    }

    @Test func llavaBenchRuleFileErrorsNameTheFile() throws {
        let dir = try TestSupport.folder(["llavabench_gpt_review_rule.json": #"{"llava_bench_conv": {"role": "Assistant"}}"#])
        let file = dir.appendingPathComponent("llavabench_gpt_review_rule.json").path
        #expect(throws: EvaluationError.missingField(file: file, location: "document", field: "llava_bench_conv.prompt")) {
            try BenchmarkName.llavabench.makeJudgeGrader(dataRoot: dir)
        }
        let empty = try TestSupport.folder([:])
        #expect(throws: EvaluationError.unreadableFile(file: empty.appendingPathComponent("llavabench_gpt_review_rule.json").path,
                                                       reason: "no such file")) {
            try BenchmarkName.llavabench.makeJudgeGrader(dataRoot: empty)
        }
    }
}

/// A judge with canned replies that records what it was asked (in order).
final class ScriptedJudge: ChatJudge, @unchecked Sendable {
    private let lock = NSLock()
    private var prompts: [JudgePrompt] = []
    let reply: @Sendable (JudgePrompt) -> String

    init(reply: @escaping @Sendable (JudgePrompt) -> String) { self.reply = reply }

    var sent: [JudgePrompt] { lock.withLock { prompts } }

    func complete(_ batch: [JudgePrompt]) async throws -> [String] {
        lock.withLock { prompts += batch }
        return batch.map(reply)
    }
}
