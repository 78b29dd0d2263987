#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// RealWorldQA (xAI, 2024): 765 questions on real-world photos, in the LLaVA-format jsonl
/// (`question_id, image, text, answer`) with the `.webp` images beside it. `text` already ends with
/// the instruction, which is kept as is: either "…only the letter of the correct option…" (a
/// multiple-choice question, answer a letter) or "…a single word or number." (free-form).
///
/// Grading: multiple-choice answers by the §7 letter rule; free-form answers by equality after
/// the VQA answer normalisation (so "Two." matches "2", "Yes" matches "yes").
/// Scores: `accuracy`, `accuracy_multiple_choice`, `accuracy_free_form`, `questions`.
public struct RealWorldQA: RuleGradedBenchmark {
    public static let name = "realworldqa"
    /// Last line of the prompt of a multiple-choice question in the public file.
    public static let letterInstruction = "Please answer directly with only the letter of the correct option and nothing else."
    public static let multipleChoiceCategory = "multiple_choice"
    public static let freeFormCategory = "free_form"

    public var dataRoot: URL
    public var questionFile = "llava_test_realworldqa.jsonl"
    /// Folder of the images, relative to the data root ("" = the data root itself).
    public var imageFolder = ""

    public init(dataRoot: URL) { self.dataRoot = dataRoot }

    private struct Record: Decodable {
        let question_id: StringOrInt?
        let image: String?
        let text: String?
        let answer: StringOrInt?
    }

    public func questions() throws -> [BenchmarkQuestion] {
        let url = dataRoot.appendingPathComponent(questionFile)
        let images = imageFolder.isEmpty ? dataRoot : dataRoot.appendingPathComponent(imageFolder)
        var ids = UniqueIDs()
        return try JSONRecords.decodeLines(Record.self, from: url).map { line, record in
            let location = "line \(line)"
            let check = FieldChecks(file: url.path, location: location)
            let id = try check.text(record.question_id?.text, "question_id")
            try ids.insert(id, file: url.path, location: location)
            let text = try check.text(record.text, "text")
            let answer = PythonText.strip(try check.text(record.answer?.text, "answer"))
            let isChoice = text.hasSuffix(Self.letterInstruction)
            if isChoice, MultipleChoice.letter(answer) == nil {
                throw check.invalid("answer", "'\(answer)' is not an option letter")
            }
            return BenchmarkQuestion(
                id: id, prompt: text,
                imagePaths: [resolve(try check.text(record.image, "image"), in: images)],
                answer: answer,
                category: isChoice ? Self.multipleChoiceCategory : Self.freeFormCategory)
        }
    }

    public func grade(_ responses: [BenchmarkResponse]) throws -> [String: Double] {
        try checkResponses(responses, benchmark: Self.name)
        let normalizer = VQAAnswerNormalizer()
        var tally = AccuracyTally()
        for r in responses {
            let right: Bool
            switch r.question.category {
            case Self.multipleChoiceCategory:
                right = MultipleChoice.isCorrect(response: r.response, answer: r.question.answer)
            case Self.freeFormCategory:
                // An answer that normalises to nothing (say "the") must not be matched by silence.
                let target = normalizer.normalize(r.question.answer)
                right = !target.isEmpty && normalizer.normalize(r.response) == target
            default:
                throw EvaluationError.ungradable(
                    benchmark: Self.name, id: r.question.id, reason: "category '\(r.question.category ?? "nil")' is neither kind")
            }
            tally.add(right, groups: [r.question.category ?? ""])
        }
        var scores: [String: Double] = ["accuracy": tally.accuracy, "questions": Double(tally.total)]
        for name in [Self.multipleChoiceCategory, Self.freeFormCategory] {
            if let value = tally.accuracy(of: name) { scores["accuracy_" + name] = value }
        }
        return scores
    }
}
