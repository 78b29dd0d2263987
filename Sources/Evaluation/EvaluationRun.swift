#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AtomicFiles
import Models
import Torch

/// One benchmark evaluated end to end: questions → answers → `<bench>.jsonl` (id, prompt, correct
/// answer, response; for the GPT-judged benchmarks also the judge's reply and score),
/// `<bench>.txt`, scores merged into `summary.json` (each file written atomically).
public enum EvaluationRun {
    public struct Settings: Sendable {
        public var limit: Int?
        public var withImages = true
        public var batchSize = 1
        /// Decoding flags (the paper: greedy, up to 128 new tokens).
        public var answering = AnswerSettings(maxNewTokens: 128)
        public var mmvpLabelFixes = false
        public init() {}
    }

    /// Runs `name` from `dataRoot`; returns the scores (empty for judge-graded benchmarks, whose
    /// grading needs a judge: see the async overload).
    public static func run(_ name: BenchmarkName, dataRoot: String, answerer: Answerer, outputDir: String, settings: Settings,
                           log: (String) -> Void = { print($0) }) throws -> [String: Double] {
        let answered = try answer(name, dataRoot: dataRoot, answerer: answerer, outputDir: outputDir, settings: settings, log: log)
        var scores: [String: Double] = [:]
        if let graded = answered.benchmark as? any RuleGradedBenchmark { scores = try graded.grade(answered.responses) }
        try finish(answered, scores: scores, outputDir: outputDir)
        return scores
    }

    /// Runs `name` and, for MM-Vet, LLaVA-Bench and MMHal-Bench, grades the responses with
    /// `judge` (the jsonl then also carries `judge_reply`, `judge_score`, `judge_parsed` and, for
    /// LLaVA-Bench, `judge_reference_score`). A nil judge writes judged benchmarks' responses
    /// unscored. The judge's setup (LLaVA-Bench's rule file) is checked before any answering.
    public static func run(_ name: BenchmarkName, dataRoot: String, answerer: Answerer, outputDir: String, settings: Settings,
                           judge: (any ChatJudge)?, log: (String) -> Void = { print($0) }) async throws -> [String: Double] {
        guard let judge, let grader = try name.makeJudgeGrader(dataRoot: URL(fileURLWithPath: dataRoot)) else {
            return try run(name, dataRoot: dataRoot, answerer: answerer, outputDir: outputDir, settings: settings, log: log)
        }
        let answered = try answer(name, dataRoot: dataRoot, answerer: answerer, outputDir: outputDir, settings: settings, log: log)
        log("\(answered.key): judging \(answered.responses.count) responses")
        let judged = try await grader.grade(answered.responses, judge: judge)
        let unparsed = judged.items.filter { !$0.parsed }.count
        if unparsed > 0 { log("\(answered.key): \(unparsed) judge repl(ies) had no readable score (scored as the official script does)") }
        try writeResponses(answered, judged: judged.items, outputDir: outputDir)
        try finish(answered, scores: judged.scores, outputDir: outputDir)
        return judged.scores
    }

    /// The answered questions of one run and where they went.
    struct Answered {
        var name: BenchmarkName
        var benchmark: any Benchmark
        var responses: [BenchmarkResponse]
        /// `<bench>` or `<bench>_no_image`: the file stem and the summary key.
        var key: String
    }

    static func answer(_ name: BenchmarkName, dataRoot: String, answerer: Answerer, outputDir: String, settings: Settings,
                       log: (String) -> Void) throws -> Answered {
        let benchmark = name.makeBenchmark(dataRoot: URL(fileURLWithPath: dataRoot), mmvpLabelFixes: settings.mmvpLabelFixes)
        var questions = try benchmark.questions()
        if let limit = settings.limit {
            // MMVP is graded in pairs: keep whole pairs.
            let n = name == .mmvp ? limit + (limit % 2) : limit
            questions = Array(questions.prefix(n))
        }
        if settings.withImages {
            let missing = missingImagePaths(questions)
            if !missing.isEmpty {
                throw EvaluationError.missingImages(benchmark: name.rawValue, count: missing.count, examples: Array(missing.prefix(3)))
            }
        }
        let key = name.rawValue + (settings.withImages ? "" : "_no_image")
        log("\(key): \(questions.count) questions")
        let clock = ContinuousClock()
        let started = clock.now
        let requests = questions.map {
            AnswerRequest(text: $0.prompt, images: settings.withImages ? $0.imagePaths : [], label: "\(name.rawValue) \($0.id)")
        }
        let answers = try answerer.answer(requests, batchSize: settings.batchSize, settings: settings.answering, note: log) { done in
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let eta = Int(seconds / Double(done) * Double(questions.count - done))
            log("  \(done)/\(questions.count) answered, ETA \(eta / 60)m\(eta % 60)s")
        }
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        // LLaVA's evaluation scripts strip the decoded output (Python's str.strip()).
        let answered = Answered(name: name, benchmark: benchmark,
                                responses: zip(questions, answers).map { BenchmarkResponse(question: $0, response: PythonText.strip($1)) },
                                key: key)
        // Written before any grading, so a failed judge run keeps the (costly) answers.
        try writeResponses(answered, judged: nil, outputDir: outputDir)
        return answered
    }

    /// One line of `<bench>.jsonl`; the judge fields only for judged benchmarks.
    struct ResponseRow: Encodable {
        var id, prompt, answer, response, category: String
        var judgeReply: String?
        var judgeScore: Double?
        var judgeReferenceScore: Double?
        var judgeParsed: Bool?

        enum CodingKeys: String, CodingKey {
            case id, prompt, answer, response, category
            case judgeReply = "judge_reply"
            case judgeScore = "judge_score"
            case judgeReferenceScore = "judge_reference_score"
            case judgeParsed = "judge_parsed"
        }
    }

    static func writeResponses(_ answered: Answered, judged: [JudgedItem]?, outputDir: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines: [String] = []
        for (i, r) in answered.responses.enumerated() {
            var row = ResponseRow(id: r.question.id, prompt: r.question.prompt, answer: r.question.answer, response: r.response,
                                  category: r.question.category ?? "")
            if let judged, i < judged.count {
                row.judgeReply = judged[i].reply
                row.judgeScore = judged[i].score
                row.judgeReferenceScore = judged[i].referenceScore
                row.judgeParsed = judged[i].parsed
            }
            lines.append(String(decoding: try encoder.encode(row), as: UTF8.self))
        }
        try write(lines.joined(separator: "\n") + "\n", to: outputDir + "/\(answered.key).jsonl")
    }

    /// `<bench>.txt` and the summary entry.
    static func finish(_ answered: Answered, scores: [String: Double], outputDir: String) throws {
        let key = answered.key
        let text = scores.isEmpty
            ? "\(key): \(answered.responses.count) responses written; not scored (this benchmark needs the judge)\n"
            : scores.keys.sorted().map { "\(key) \($0): \(scores[$0] ?? 0)" }.joined(separator: "\n") + "\n"
        try write(text, to: outputDir + "/\(key).txt")
        if !scores.isEmpty { try mergeSummary(outputDir: outputDir, key: key, scores: scores) }
    }

    /// Adds `scores` under `key` to `summary.json`, and the with/without-image gap when both exist.
    static func mergeSummary(outputDir: String, key: String, scores: [String: Double]) throws {
        let path = outputDir + "/summary.json"
        var summary: [String: [String: Double]] = [:]
        if let data = try? Data(contentsOf: URL(fileURLWithPath: path)) {
            summary = (try? JSONDecoder().decode([String: [String: Double]].self, from: data)) ?? [:]
        }
        summary[key] = scores
        let base = key.hasSuffix("_no_image") ? String(key.dropLast("_no_image".count)) : key
        if let with = summary[base], let without = summary[base + "_no_image"] {
            var gap: [String: Double] = [:]
            for (k, v) in with where !["questions", "pairs"].contains(k) { if let w = without[k] { gap[k] = v - w } }
            summary[base + "_image_gap"] = gap
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write(String(decoding: try encoder.encode(summary), as: UTF8.self) + "\n", to: path)
    }

    static func write(_ text: String, to path: String) throws {
        try AtomicFile.write(to: path) { try $0.write(Array(text.utf8)) }
    }
}
