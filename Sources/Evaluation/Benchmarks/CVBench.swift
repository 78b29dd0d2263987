#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// CV-Bench (Tong et al., 2024, Cambrian-1): 2,638 multiple-choice questions; 2D tasks (Count,
/// Relation) on ADE20K and COCO images, 3D tasks (Depth, Distance) on Omni3D images.
///
/// Release layout: the question jsonl (one record per line with `idx, type, task, image, prompt,
/// choices, answer, source`) and `img/<image>`. The prompt is the record's `prompt` (question and
/// lettered choices) followed on a new line by LLaVA's multiple-choice instruction.
///
/// Scores: `accuracy_ade20k`, `accuracy_coco`, `accuracy_omni3d`; `accuracy_2d` = mean of ADE20K
/// and COCO, `accuracy_3d` = Omni3D, `accuracy_combined` = mean of 2D and 3D (the benchmark's
/// headline number); per task `accuracy_count`, `accuracy_relation`, `accuracy_depth`,
/// `accuracy_distance`; `accuracy` over all questions; `questions`. A key is left out when none of
/// its questions were graded.
public struct CVBench: RuleGradedBenchmark {
    public static let name = "cvbench"

    /// Sources and the dimension each belongs to.
    static let sources: [String: String] = ["ADE20K": "2D", "COCO": "2D", "Omni3D": "3D"]
    static let tasks: [String: String] = ["Count": "2D", "Relation": "2D", "Depth": "3D", "Distance": "3D"]

    public var dataRoot: URL
    public var questionFile = "cvbench_test.jsonl"
    public var imageFolder = "img"

    public init(dataRoot: URL) { self.dataRoot = dataRoot }

    private struct Record: Decodable {
        let idx: Int?
        let type: String?
        let task: String?
        let image: String?
        let prompt: String?
        let choices: [String]?
        let answer: String?
        let source: String?
    }

    public func questions() throws -> [BenchmarkQuestion] {
        let url = dataRoot.appendingPathComponent(questionFile)
        let images = dataRoot.appendingPathComponent(imageFolder)
        var ids = UniqueIDs()
        return try JSONRecords.decodeLines(Record.self, from: url).map { line, record in
            let location = "line \(line)"
            let check = FieldChecks(file: url.path, location: location)
            let id = String(try check.value(record.idx, "idx"))
            try ids.insert(id, file: url.path, location: location)
            let type = try check.text(record.type, "type")
            let task = try check.text(record.task, "task")
            let source = try check.text(record.source, "source")
            guard let sourceType = Self.sources[source] else {
                throw EvaluationError.unknownType(file: url.path, location: location, field: "source", value: source)
            }
            guard let taskType = Self.tasks[task] else {
                throw EvaluationError.unknownType(file: url.path, location: location, field: "task", value: task)
            }
            guard type == sourceType, type == taskType else {
                throw check.invalid("type", "'\(type)' does not match source '\(source)' and task '\(task)'")
            }
            let choices = try check.value(record.choices, "choices")
            let answer = try check.text(record.answer, "answer")
            guard let letter = MultipleChoice.letter(answer),
                  let offset = letter.unicodeScalars.first.map({ Int($0.value) - 97 }), offset < choices.count else {
                throw check.invalid("answer", "'\(answer)' is not one of the \(choices.count) choices")
            }
            return BenchmarkQuestion(
                id: id,
                prompt: try check.text(record.prompt, "prompt") + "\n" + multipleChoiceInstruction,
                imagePaths: [resolve(try check.text(record.image, "image"), in: images)],
                answer: answer,
                category: task,
                extra: ["type": type, "task": task, "source": source])
        }
    }

    public func grade(_ responses: [BenchmarkResponse]) throws -> [String: Double] {
        try checkResponses(responses, benchmark: Self.name)
        var tally = AccuracyTally()
        for r in responses {
            guard let source = r.question.extra["source"], let task = r.question.extra["task"] else {
                throw EvaluationError.ungradable(benchmark: Self.name, id: r.question.id, reason: "no source/task recorded")
            }
            tally.add(MultipleChoice.isCorrect(response: r.response, answer: r.question.answer), groups: [source, task])
        }
        var scores: [String: Double] = ["accuracy": tally.accuracy, "questions": Double(tally.total)]
        for name in tally.groupNames {
            if let value = tally.accuracy(of: name) { scores["accuracy_" + name.lowercased()] = value }
        }
        let ade = tally.accuracy(of: "ADE20K"), coco = tally.accuracy(of: "COCO"), omni = tally.accuracy(of: "Omni3D")
        if let ade, let coco { scores["accuracy_2d"] = (ade + coco) / 2 }
        if let omni { scores["accuracy_3d"] = omni }
        if let twoD = scores["accuracy_2d"], let threeD = scores["accuracy_3d"] {
            scores["accuracy_combined"] = (twoD + threeD) / 2
        }
        return scores
    }
}
