import Evaluation
import Foundation

/// One model's answers to the demo benchmark, as `svco eval --benchmark mmvp` wrote them (with and
/// without the pictures) into one output folder, and the scores the demo reports.
struct DemoRun {
    /// What the table and chart call the model ("base", "DPO", "S-VCO").
    var name: String
    var folder: String
    /// `svco eval`'s own MMVP scores from summary.json.
    var pairedAccuracy: Double
    var accuracy: Double
    var noImageAccuracy: Double
    /// Per-question accuracy on the questions whose picture contradicts the language prior.
    var conflictAccuracy: Double
    /// The responses by question id, with and without the picture.
    var responses: [String: String]
    var noImageResponses: [String: String]

    /// With-image accuracy minus no-image accuracy: how much the picture changes the answers.
    var noImageGap: Double { accuracy - noImageAccuracy }
}

/// The benchmark's side file (demo/priors/mmvp/pairs.json): each pair's family, question, correct
/// letters and the letter the question's wording suggests.
struct BenchmarkPair: Decodable {
    var pair: Int
    var indices: [Int]
    var family: String
    var question: String
    var answers: [String]
    var priorAnswer: String

    enum CodingKeys: String, CodingKey {
        case pair, indices, family, question, answers
        case priorAnswer = "prior_answer"
    }
}

struct ReportError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum DemoResults {
    static func pairs(benchmark: String) throws -> [BenchmarkPair] {
        let path = benchmark + "/pairs.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw ReportError("\(path): cannot read the file") }
        do {
            return try JSONDecoder().decode([BenchmarkPair].self, from: data)
        } catch {
            throw ReportError("\(path): not the demo benchmark's pair list (\(error))")
        }
    }

    /// Reads one `svco eval` output folder. Score keys are read in one place, here.
    static func run(name: String, folder: String, pairs: [BenchmarkPair]) throws -> DemoRun {
        let summaryPath = folder + "/summary.json"
        guard let data = FileManager.default.contents(atPath: summaryPath),
              let summary = try? JSONDecoder().decode([String: [String: Double]].self, from: data) else {
            throw ReportError("\(summaryPath): cannot read svco eval's summary")
        }
        func score(_ bench: String, _ key: String) throws -> Double {
            guard let v = summary[bench]?[key] else {
                throw ReportError("\(summaryPath): no '\(bench)' score '\(key)' (run svco eval --benchmark mmvp with and without --no-image)")
            }
            return v
        }
        let responses = try answers(folder + "/mmvp.jsonl")
        let noImage = try answers(folder + "/mmvp_no_image.jsonl")
        var conflicts = 0, conflictsRight = 0
        for pair in pairs {
            for (index, answer) in zip(pair.indices, pair.answers) where answer != pair.priorAnswer {
                conflicts += 1
                if let r = responses[String(index)], MultipleChoice.isCorrect(response: r, answer: answer) { conflictsRight += 1 }
            }
        }
        return DemoRun(name: name, folder: folder, pairedAccuracy: try score("mmvp", "paired_accuracy"),
                       accuracy: try score("mmvp", "accuracy"), noImageAccuracy: try score("mmvp_no_image", "accuracy"),
                       conflictAccuracy: conflicts == 0 ? 0 : Double(conflictsRight) / Double(conflicts),
                       responses: responses, noImageResponses: noImage)
    }

    /// id → response from a `<bench>.jsonl` answer file.
    static func answers(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReportError("\(path): cannot read the file") }
        var out: [String: String] = [:]
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = object["id"] as? String, let response = object["response"] as? String else {
                throw ReportError("\(path): line \(n + 1): expected an object with 'id' and 'response'")
            }
            out[id] = response
        }
        return out
    }

    /// Each model's answers to the example pairs, one line per picture, as Markdown.
    static func examples(_ runs: [DemoRun], pairs: [(BenchmarkPair, [String])]) -> String {
        var lines = ["| picture | question | right answer | " + runs.map(\.name).joined(separator: " | ") + " |",
                     "|---|---|---|" + String(repeating: "---|", count: runs.count)]
        for (pair, paths) in pairs {
            for (j, (index, answer)) in zip(pair.indices, pair.answers).enumerated() {
                let picture = j < paths.count ? paths[j] : String(index)
                let given = runs.map { r -> String in
                    let response = r.responses[String(index)] ?? ""
                    return "`\(response)`" + (MultipleChoice.isCorrect(response: response, answer: answer) ? "" : " ✗")
                }
                lines.append("| \(picture) | \(pair.question) | \(answer) | " + given.joined(separator: " | ") + " |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The table as Markdown (what the README quotes).
    static func table(_ runs: [DemoRun], pairs: [BenchmarkPair]) -> String {
        func f(_ x: Double) -> String { String(format: "%.3f", x) }
        func signed(_ x: Double) -> String { (x >= 0 ? "+" : "−") + String(format: "%.3f", abs(x)) }
        let conflicts = pairs.reduce(0) { n, p in n + p.answers.filter { $0 != p.priorAnswer }.count }
        var lines = [
            "| model | paired accuracy | accuracy | accuracy where the picture contradicts the prior | accuracy without the picture | no-image gap |",
            "|---|---|---|---|---|---|",
        ]
        for r in runs {
            lines.append("| \(r.name) | \(f(r.pairedAccuracy)) | \(f(r.accuracy)) | \(f(r.conflictAccuracy)) | \(f(r.noImageAccuracy)) | \(signed(r.noImageGap)) |")
        }
        lines.append("")
        lines.append("\(pairs.count) held-out pairs, \(2 * pairs.count) questions (\(conflicts) of them with a picture that contradicts the prior).")
        return lines.joined(separator: "\n") + "\n"
    }
}
