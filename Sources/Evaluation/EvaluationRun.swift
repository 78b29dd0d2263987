#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Models
import Torch

/// One benchmark evaluated end to end: questions → answers → `<bench>.jsonl` (id, prompt, correct
/// answer, response), `<bench>.txt`, scores merged into `summary.json` (each file written atomically).
public enum EvaluationRun {
    public struct Settings: Sendable {
        public var limit: Int?
        public var withImages = true
        public var batchSize = 1
        public var generation = GenerationOptions(maxNewTokens: 128)
        public var mmvpLabelFixes = false
        public init() {}
    }

    /// Runs `name` from `dataRoot`; returns the scores (empty for judge-graded benchmarks, whose
    /// grading needs the judge client).
    public static func run(_ name: BenchmarkName, dataRoot: String, answerer: Answerer, outputDir: String, settings: Settings,
                           log: (String) -> Void = { print($0) }) throws -> [String: Double] {
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
        let suffix = settings.withImages ? "" : "_no_image"
        log("\(name.rawValue)\(suffix): \(questions.count) questions")
        let clock = ContinuousClock()
        let started = clock.now
        let answers = try answerer.answer(questions, withImages: settings.withImages, batchSize: settings.batchSize,
                                          options: settings.generation) { done in
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let eta = Int(seconds / Double(done) * Double(questions.count - done))
            log("  \(done)/\(questions.count) answered, ETA \(eta / 60)m\(eta % 60)s")
        }
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines: [String] = []
        for (q, a) in zip(questions, answers) {
            let row = ["id": q.id, "prompt": q.prompt, "answer": q.answer, "response": a, "category": q.category ?? ""]
            lines.append(String(decoding: try encoder.encode(row), as: UTF8.self))
        }
        try write(lines.joined(separator: "\n") + "\n", to: outputDir + "/\(name.rawValue)\(suffix).jsonl")

        var scores: [String: Double] = [:]
        if let graded = benchmark as? any RuleGradedBenchmark {
            scores = try graded.grade(zip(questions, answers).map { BenchmarkResponse(question: $0, response: $1) })
        }
        let text = scores.isEmpty
            ? "\(name.rawValue)\(suffix): \(questions.count) responses written; grading needs the judge (not implemented yet)\n"
            : scores.keys.sorted().map { "\(name.rawValue)\(suffix) \($0): \(scores[$0] ?? 0)" }.joined(separator: "\n") + "\n"
        try write(text, to: outputDir + "/\(name.rawValue)\(suffix).txt")
        if !scores.isEmpty { try mergeSummary(outputDir: outputDir, key: name.rawValue + suffix, scores: scores) }
        return scores
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
