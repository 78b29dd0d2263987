#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// MMHal-Bench (Sun et al., 2023, LLaVA-RLHF): 96 questions in 8 question types × 12 topics,
/// scored later by a GPT judge for hallucination against the ground-truth answer and the listed
/// image contents.
///
/// Release layout: `mmhal-bench_answer_template.json` (an array with `question_type,
/// question_topic, image_id, image_src, image_content, question, gt_answer`) and
/// `images/<image_id>.jpg` (the naming of the benchmark's image-eval jsonl). The prompt is the
/// question as published. `category` is the question type; `extra` holds `question_topic`,
/// `image_content` (joined with ", ") and `image_src`, which the judge prompt needs.
public struct MMHalBench: Benchmark {
    public static let name = "mmhal"
    static let questionTypes: Set<String> = [
        "attribute", "adversarial", "comparison", "counting", "relation", "environment", "holistic", "other",
    ]

    public var dataRoot: URL
    public var questionFile = "mmhal-bench_answer_template.json"
    public var imageFolder = "images"

    public init(dataRoot: URL) { self.dataRoot = dataRoot }

    private struct Entry: Decodable {
        let question_type: String?
        let question_topic: String?
        let image_id: String?
        let image_src: String?
        let image_content: [String]?
        let question: String?
        let gt_answer: String?
    }

    public func questions() throws -> [BenchmarkQuestion] {
        let url = dataRoot.appendingPathComponent(questionFile)
        let images = dataRoot.appendingPathComponent(imageFolder)
        let entries = try JSONRecords.decodeDocument([Entry].self, from: url)
        if entries.isEmpty { throw EvaluationError.emptyFile(file: url.path) }
        var ids = UniqueIDs()
        return try entries.enumerated().map { offset, e in
            let location = "record \(offset + 1)"
            let check = FieldChecks(file: url.path, location: location)
            let id = try check.text(e.image_id, "image_id")
            try ids.insert(id, file: url.path, location: location)
            let type = try check.text(e.question_type, "question_type")
            guard Self.questionTypes.contains(type) else {
                throw EvaluationError.unknownType(file: url.path, location: location, field: "question_type", value: type)
            }
            return BenchmarkQuestion(
                id: id, prompt: try check.text(e.question, "question"),
                imagePaths: [resolve(id + ".jpg", in: images)],
                answer: try check.text(e.gt_answer, "gt_answer"),
                category: type,
                extra: [
                    "question_topic": try check.text(e.question_topic, "question_topic"),
                    "image_content": try check.value(e.image_content, "image_content").joined(separator: ", "),
                    "image_src": e.image_src ?? "",
                ])
        }
    }
}
