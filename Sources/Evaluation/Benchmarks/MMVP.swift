#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// MMVP (Tong et al., 2024): 300 two-option questions on 150 "CLIP-blind" image pairs.
///
/// Release layout: `Questions.csv` (columns `Index, Question, Options, Correct Answer`) and
/// `MMVP Images/<Index>.jpg`. Consecutive rows (1–2, 3–4, …) ask the same question about the two
/// images of a pair. The prompt is the MMVP evaluation script's `Question + " " + Options`, followed
/// on a new line by LLaVA's multiple-choice instruction.
///
/// Scores: `accuracy` (per question), `paired_accuracy` (a pair counts only if both of its questions
/// are right), `questions`, `pairs`.
public struct MMVP: RuleGradedBenchmark {
    public static let name = "mmvp"

    /// A correction to a published label. Applied only when the file still holds `reported`.
    public struct LabelFix: Sendable, Equatable {
        public let index: Int
        public let reported: String
        public let corrected: String
    }

    /// The four publicly reported label errors, off by default to match the paper: GitHub
    /// tsb0601/MMVP issue #14 (rows 279/280, the standing/sitting labels are swapped) and issue #30
    /// (rows 99, 100, 279, 280; the elephant-tusk pair is swapped as well). With two options, a
    /// wrong label can only be the other letter.
    public static let labelFixes: [LabelFix] = [
        LabelFix(index: 99, reported: "(a)", corrected: "(b)"),
        LabelFix(index: 100, reported: "(b)", corrected: "(a)"),
        LabelFix(index: 279, reported: "(a)", corrected: "(b)"),
        LabelFix(index: 280, reported: "(b)", corrected: "(a)"),
    ]

    public var dataRoot: URL
    public var applyLabelFixes: Bool
    public var questionFile = "Questions.csv"
    public var imageFolder = "MMVP Images"

    public init(dataRoot: URL, applyLabelFixes: Bool = false) {
        self.dataRoot = dataRoot
        self.applyLabelFixes = applyLabelFixes
    }

    public func questions() throws -> [BenchmarkQuestion] {
        let url = dataRoot.appendingPathComponent(questionFile)
        let table = try CSVTable(contentsOf: url)
        let indexColumn = try table.column("Index")
        let questionColumn = try table.column("Question")
        let optionsColumn = try table.column("Options")
        let answerColumn = try table.column("Correct Answer")
        let fixes = applyLabelFixes ? Dictionary(uniqueKeysWithValues: Self.labelFixes.map { ($0.index, $0) }) : [:]
        let images = dataRoot.appendingPathComponent(imageFolder)

        guard table.rows.count % 2 == 0 else {
            throw EvaluationError.malformedRecord(
                file: url.path, location: "line \(table.rows.last?.line ?? 1)",
                reason: "\(table.rows.count) questions cannot form pairs")
        }
        var result: [BenchmarkQuestion] = []
        result.reserveCapacity(table.rows.count)
        for (position, row) in table.rows.enumerated() {
            let check = FieldChecks(file: url.path, location: "line \(row.line)")
            let indexText = PythonText.strip(row.fields[indexColumn])
            // Images are named by index and pairs are consecutive rows, so the index must count 1, 2, 3, …
            guard let index = Int(indexText), index == position + 1 else {
                throw check.invalid("Index", "expected \(position + 1), found '\(indexText)'")
            }
            let question = PythonText.strip(try check.text(row.fields[questionColumn], "Question"))
            let options = PythonText.strip(try check.text(row.fields[optionsColumn], "Options"))
            var answer = PythonText.strip(try check.text(row.fields[answerColumn], "Correct Answer"))
            if let fix = fixes[index] {
                if answer == fix.reported {
                    answer = fix.corrected
                } else if answer != fix.corrected {
                    throw check.invalid("Correct Answer", "label fix expects '\(fix.reported)', found '\(answer)'")
                }
            }
            guard let letter = MultipleChoice.letter(answer) else {
                throw check.invalid("Correct Answer", "'\(answer)' is not an option letter")
            }
            guard options.lowercased().contains("(\(letter))") else {
                throw check.invalid("Correct Answer", "option (\(letter)) is not among '\(options)'")
            }
            let pair = (index - 1) / 2 + 1
            let partner = index % 2 == 1 ? index + 1 : index - 1
            result.append(BenchmarkQuestion(
                id: String(index),
                prompt: question + " " + options + "\n" + multipleChoiceInstruction,
                imagePaths: [resolve("\(index).jpg", in: images)],
                answer: answer,
                extra: ["pair": String(pair), "pair_partner": String(partner)]))
        }
        return result
    }

    public func grade(_ responses: [BenchmarkResponse]) throws -> [String: Double] {
        try checkResponses(responses, benchmark: Self.name)
        var tally = AccuracyTally()
        var pairs: [String: (answered: Int, right: Int, partner: String)] = [:]
        for r in responses {
            let right = MultipleChoice.isCorrect(response: r.response, answer: r.question.answer)
            tally.add(right)
            guard let pair = r.question.extra["pair"], let partner = r.question.extra["pair_partner"] else {
                throw EvaluationError.ungradable(benchmark: Self.name, id: r.question.id, reason: "no pair recorded")
            }
            var entry = pairs[pair] ?? (0, 0, partner)
            entry.answered += 1
            if right { entry.right += 1 }
            pairs[pair] = entry
        }
        var pairsRight = 0
        for key in pairs.keys.sorted() {
            guard let entry = pairs[key] else { continue }
            guard entry.answered == 2 else {
                throw EvaluationError.incompletePair(benchmark: Self.name, pair: key, missingID: entry.partner)
            }
            if entry.right == 2 { pairsRight += 1 }
        }
        return [
            "accuracy": tally.accuracy,
            "paired_accuracy": Double(pairsRight) / Double(pairs.count),
            "questions": Double(tally.total),
            "pairs": Double(pairs.count),
        ]
    }
}
