#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// ScienceQA-IMG: the questions of the ScienceQA test split that come with an image (2,017 of
/// 4,241), from LLaVA's conversation-format file `llava_test_CQM-A.json` (context, question and
/// lettered options in the human turn, the answer letter in the gpt turn) with the images under
/// `images/test/<id>/image.png`, the layout of LLaVA's evaluation.
///
/// The prompt is built as LLaVA's science evaluation builds it: the human turn with "<image>"
/// removed and surrounding whitespace trimmed, then LLaVA's multiple-choice instruction on a new
/// line. Scores: `accuracy` (§7 letter rule), `questions`.
public struct ScienceQA: RuleGradedBenchmark {
    public static let name = "scienceqa"

    public var dataRoot: URL
    public var questionFile = "llava_test_CQM-A.json"
    public var imageFolder = "images/test"
    /// Keep only the questions with an image (the IMG subset the paper reports).
    public var imageSubsetOnly = true

    public init(dataRoot: URL) { self.dataRoot = dataRoot }

    private struct Turn: Decodable {
        let from: String?
        let value: String?
    }

    private struct Record: Decodable {
        let id: StringOrInt?
        let image: String?
        let conversations: [Turn]?
    }

    public func questions() throws -> [BenchmarkQuestion] {
        let url = dataRoot.appendingPathComponent(questionFile)
        let images = dataRoot.appendingPathComponent(imageFolder)
        let records = try JSONRecords.decodeDocument([Record].self, from: url)
        var ids = UniqueIDs()
        var result: [BenchmarkQuestion] = []
        for (offset, record) in records.enumerated() {
            let location = "record \(offset + 1)"
            let check = FieldChecks(file: url.path, location: location)
            let id = try check.text(record.id?.text, "id")
            try ids.insert(id, file: url.path, location: location)
            let turns = try check.value(record.conversations, "conversations")
            guard turns.count >= 2, turns[0].from == "human", turns[1].from == "gpt" else {
                throw check.invalid("conversations", "expected a human turn followed by a gpt turn")
            }
            let question = try check.text(turns[0].value, "conversations.0.value")
            let answer = PythonText.strip(try check.text(turns[1].value, "conversations.1.value"))
            guard MultipleChoice.letter(answer) != nil else {
                throw check.invalid("conversations.1.value", "'\(answer)' is not an option letter")
            }
            guard let image = record.image else {
                if imageSubsetOnly { continue }
                result.append(BenchmarkQuestion(id: id, prompt: Self.prompt(question), imagePaths: [], answer: answer))
                continue
            }
            guard !PythonText.strip(image).isEmpty else { throw check.invalid("image", "is empty") }
            result.append(BenchmarkQuestion(
                id: id, prompt: Self.prompt(question), imagePaths: [resolve(image, in: images)], answer: answer))
        }
        if result.isEmpty { throw EvaluationError.emptyFile(file: url.path) }
        return result
    }

    static func prompt(_ humanTurn: String) -> String {
        PythonText.strip(humanTurn.replacing("<image>", with: "")) + "\n" + multipleChoiceInstruction
    }

    public func grade(_ responses: [BenchmarkResponse]) throws -> [String: Double] {
        try checkResponses(responses, benchmark: Self.name)
        var tally = AccuracyTally()
        for r in responses {
            tally.add(MultipleChoice.isCorrect(response: r.response, answer: r.question.answer))
        }
        return ["accuracy": tally.accuracy, "questions": Double(tally.total)]
    }
}
