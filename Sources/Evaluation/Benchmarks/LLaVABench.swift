#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// LLaVA-Bench-in-the-Wild (Liu et al., 2023): 60 questions on 24 images, scored later by a GPT
/// judge relative to GPT-4's answers.
///
/// Release layout: `questions.jsonl` (`question_id, image, text, category`), `answers_gpt4.jsonl`
/// (`question_id, text`: the reference answer), `context.jsonl` (`image, caption`: what the judge
/// is told about the image) and `images/<image>`. The prompt is `text` as published.
/// `category` is conv / detail / complex; `extra["caption"]` holds the image's caption.
public struct LLaVABench: Benchmark {
    public static let name = "llavabench"
    static let categories: Set<String> = ["conv", "detail", "complex"]

    public var dataRoot: URL
    public var questionFile = "questions.jsonl"
    public var answerFile = "answers_gpt4.jsonl"
    public var contextFile = "context.jsonl"
    public var imageFolder = "images"

    public init(dataRoot: URL) { self.dataRoot = dataRoot }

    private struct Question: Decodable {
        let question_id: StringOrInt?
        let image: String?
        let text: String?
        let category: String?
    }

    private struct Answer: Decodable {
        let question_id: StringOrInt?
        let text: String?
    }

    private struct Context: Decodable {
        let image: String?
        let caption: String?
    }

    public func questions() throws -> [BenchmarkQuestion] {
        let answerURL = dataRoot.appendingPathComponent(answerFile)
        var answers: [String: String] = [:]
        for (line, a) in try JSONRecords.decodeLines(Answer.self, from: answerURL) {
            let check = FieldChecks(file: answerURL.path, location: "line \(line)")
            let id = try check.text(a.question_id?.text, "question_id")
            guard answers.updateValue(try check.text(a.text, "text"), forKey: id) == nil else {
                throw EvaluationError.duplicateID(file: answerURL.path, location: "line \(line)", id: id)
            }
        }
        let contextURL = dataRoot.appendingPathComponent(contextFile)
        var captions: [String: String] = [:]
        for (line, c) in try JSONRecords.decodeLines(Context.self, from: contextURL) {
            let check = FieldChecks(file: contextURL.path, location: "line \(line)")
            captions[try check.text(c.image, "image")] = try check.text(c.caption, "caption")
        }

        let url = dataRoot.appendingPathComponent(questionFile)
        let images = dataRoot.appendingPathComponent(imageFolder)
        var ids = UniqueIDs()
        return try JSONRecords.decodeLines(Question.self, from: url).map { line, q in
            let location = "line \(line)"
            let check = FieldChecks(file: url.path, location: location)
            let id = try check.text(q.question_id?.text, "question_id")
            try ids.insert(id, file: url.path, location: location)
            let category = try check.text(q.category, "category")
            guard Self.categories.contains(category) else {
                throw EvaluationError.unknownType(file: url.path, location: location, field: "category", value: category)
            }
            let image = try check.text(q.image, "image")
            guard let answer = answers[id] else {
                throw EvaluationError.missingCompanion(file: url.path, location: location, key: id, companion: answerURL.path)
            }
            guard let caption = captions[image] else {
                throw EvaluationError.missingCompanion(file: url.path, location: location, key: image, companion: contextURL.path)
            }
            return BenchmarkQuestion(
                id: id, prompt: try check.text(q.text, "text"), imagePaths: [resolve(image, in: images)],
                answer: answer, category: category, extra: ["caption": caption])
        }
    }
}
