#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// TextVQA validation (v0.5.1, 5,000 questions): prompts from LLaVA's OCR-token question file
/// `llava_textvqa_val_v051_ocr.jsonl` (question, "Reference OCR token: …", "Answer the question
/// using a single word or phrase."), human answers from `TextVQA_0.5.1_val.json`, images in
/// `train_images/` (the val images ship in the train image archive).
///
/// The two files are joined the way LLaVA's TextVQA scoring joins them: on the image id (the
/// jsonl's `question_id`) and the lower-cased question (the prompt line that is not the OCR line).
/// The jsonl's `question_id` is an image id and repeats, so questions take the annotation's
/// numeric `question_id` as their id.
///
/// `answer` holds the human answer with the highest VQA accuracy (first such in file order), the
/// ten answers are in `referenceAnswers`. Scores: `accuracy` (mean VQA accuracy), `questions`.
public struct TextVQA: RuleGradedBenchmark {
    public static let name = "textvqa"
    static let ocrMarker = "Reference OCR token:"

    public var dataRoot: URL
    public var questionFile = "llava_textvqa_val_v051_ocr.jsonl"
    public var annotationFile = "TextVQA_0.5.1_val.json"
    public var imageFolder = "train_images"

    public init(dataRoot: URL) { self.dataRoot = dataRoot }

    private struct Record: Decodable {
        let question_id: StringOrInt?
        let image: String?
        let text: String?
    }

    private struct Annotation: Decodable {
        let question_id: StringOrInt?
        let image_id: String?
        let question: String?
        let answers: [String]?
    }

    private struct AnnotationFile: Decodable {
        let data: [Annotation]?
    }

    public func questions() throws -> [BenchmarkQuestion] {
        let annotationURL = dataRoot.appendingPathComponent(annotationFile)
        let annotations = try loadAnnotations(annotationURL)
        let url = dataRoot.appendingPathComponent(questionFile)
        let images = dataRoot.appendingPathComponent(imageFolder)
        let accuracy = VQAAccuracy()
        var ids = UniqueIDs()
        return try JSONRecords.decodeLines(Record.self, from: url).map { line, record in
            let location = "line \(line)"
            let check = FieldChecks(file: url.path, location: location)
            let imageID = try check.text(record.question_id?.text, "question_id")
            let text = try check.text(record.text, "text")
            guard let question = Self.question(inPrompt: text) else {
                throw check.invalid("text", "expected 'question\\n\(Self.ocrMarker) …\\ninstruction' or 'question\\ninstruction'")
            }
            let key = Self.joinKey(imageID: imageID, question: question)
            guard let annotation = annotations[key] else {
                throw EvaluationError.missingCompanion(
                    file: url.path, location: location, key: "\(imageID): \(question)", companion: annotationURL.path)
            }
            try ids.insert(annotation.id, file: url.path, location: location)
            let normalized = annotation.answers.map(accuracy.normalizer.normalize)
            var best = annotation.answers[0]
            var bestScore = -1.0
            for (raw, norm) in zip(annotation.answers, normalized) {
                let score = accuracy.score(normalizedPrediction: norm, normalizedAnswers: normalized)
                if score > bestScore { (best, bestScore) = (raw, score) }
            }
            return BenchmarkQuestion(
                id: annotation.id, prompt: text,
                imagePaths: [resolve(try check.text(record.image, "image"), in: images)],
                answer: best, extra: ["image_id": imageID], referenceAnswers: annotation.answers)
        }
    }

    /// The question line of an LLaVA TextVQA prompt (LLaVA's own parsing of its prompts).
    static func question(inPrompt prompt: String) -> String? {
        let lines = prompt.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.count == 3, prompt.contains(ocrMarker + " ") {
            return prompt.hasPrefix(ocrMarker) ? lines[1] : lines[0]
        }
        if lines.count == 2 { return lines[0] }
        return nil
    }

    static func joinKey(imageID: String, question: String) -> String {
        imageID + "\u{0}" + question.lowercased()
    }

    private func loadAnnotations(_ url: URL) throws -> [String: (id: String, answers: [String])] {
        let file = try JSONRecords.decodeDocument(AnnotationFile.self, from: url)
        let data = try FieldChecks(file: url.path, location: "document").value(file.data, "data")
        var byKey: [String: (id: String, answers: [String])] = [:]
        byKey.reserveCapacity(data.count)
        for (offset, a) in data.enumerated() {
            let location = "data record \(offset + 1)"
            let check = FieldChecks(file: url.path, location: location)
            let id = try check.text(a.question_id?.text, "question_id")
            let key = Self.joinKey(imageID: try check.text(a.image_id, "image_id"), question: try check.text(a.question, "question"))
            let answers = try check.value(a.answers, "answers")
            guard answers.count == 10 else { throw check.invalid("answers", "has \(answers.count) answers, expected 10") }
            guard byKey.updateValue((id, answers), forKey: key) == nil else {
                throw EvaluationError.duplicateID(file: url.path, location: location, id: "\(a.image_id ?? ""): \(a.question ?? "")")
            }
        }
        return byKey
    }

    public func grade(_ responses: [BenchmarkResponse]) throws -> [String: Double] {
        try checkResponses(responses, benchmark: Self.name)
        let accuracy = VQAAccuracy()
        var total = 0.0
        for r in responses {
            guard !r.question.referenceAnswers.isEmpty else {
                throw EvaluationError.ungradable(benchmark: Self.name, id: r.question.id, reason: "no reference answers")
            }
            total += accuracy.score(prediction: r.response, answers: r.question.referenceAnswers)
        }
        return ["accuracy": total / Double(responses.count), "questions": Double(responses.count)]
    }
}
