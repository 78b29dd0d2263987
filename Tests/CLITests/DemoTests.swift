import Evaluation
import Foundation
import Testing

/// Issue 15: what `make demo` claims, checked with the same commands and settings (scripts/demo,
/// demo/priors/preference.yaml), on the demo's held-out paired benchmark (demo/priors/mmvp):
/// the bundled base model answers from the language prior, and S-VCO — trained on the minimal-contrast
/// pairs — makes it look at the picture, more than DPO does with the same data, steps and learning rate.
///
/// Bounds come from runs of the demo's settings with ten training seeds (42, the demo's, and 1–9; one
/// thread, this machine kind) listed in demo/README.md, each set a little below the worst seed: S-VCO's
/// paired accuracy ranged over 0.45–0.63, DPO's over 0.20–0.50, and S-VCO beat DPO with every seed (by
/// 0.02–0.38). Another CPU sums in another order and drifts from these runs as another seed would, so the
/// single-run comparison with DPO allows the noise of one seed.
@Suite(.serialized) struct DemoTests {
    static let benchmark = CLITests.root + "/demo/priors/mmvp"
    static let config = "demo/priors/preference.yaml"

    /// The benchmark's side file: per pair, the two question ids, their right letters and the prior's letter.
    struct Pair: Decodable {
        var indices: [Int]
        var answers: [String]
        var priorAnswer: String
        enum CodingKeys: String, CodingKey {
            case indices, answers
            case priorAnswer = "prior_answer"
        }
    }

    struct Scores {
        /// `svco eval`'s own MMVP scores.
        var paired: Double, accuracy: Double
        /// Accuracy on the pictures that contradict the prior, and how often the answer is the prior's.
        var conflict: Double, followsPrior: Double
    }

    static func pairs() throws -> [Pair] {
        try JSONDecoder().decode([Pair].self, from: Data(contentsOf: URL(fileURLWithPath: benchmark + "/pairs.json")))
    }

    /// `svco eval --benchmark mmvp` on the demo benchmark as scripts/demo runs it; the scores of the run.
    static func evaluate(model: String, output: String, noImage: Bool = false) throws -> Scores {
        var args = ["eval", "--model", model, "--benchmark", "mmvp", "--data-root", benchmark, "--output-dir", output,
                    "--batch-size", "40", "--max-new-tokens", noImage ? "1" : "8", "--threads", "1"]
        if noImage { args.append("--no-image") }
        let r = try CLITests.run(args)
        try #require(r.status == 0, "svco eval failed: \(r.output)")
        let key = noImage ? "mmvp_no_image" : "mmvp"
        let summary = try JSONDecoder().decode([String: [String: Double]].self,
                                               from: Data(contentsOf: URL(fileURLWithPath: output + "/summary.json")))
        let scores = try #require(summary[key], "no '\(key)' in \(output)/summary.json")
        var responses: [String: String] = [:]
        let lines = try String(contentsOfFile: output + "/\(key).jsonl", encoding: .utf8).split(separator: "\n")
        for line in lines {
            let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            responses[try #require(row["id"] as? String)] = try #require(row["response"] as? String)
        }
        var conflicts = 0, conflictsRight = 0, followed = 0, asked = 0
        for pair in try pairs() {
            for (index, answer) in zip(pair.indices, pair.answers) {
                let response = try #require(responses[String(index)], "question \(index) unanswered")
                asked += 1
                if MultipleChoice.isCorrect(response: response, answer: pair.priorAnswer) { followed += 1 }
                if answer != pair.priorAnswer {
                    conflicts += 1
                    if MultipleChoice.isCorrect(response: response, answer: answer) { conflictsRight += 1 }
                }
            }
        }
        return Scores(paired: try #require(scores["paired_accuracy"]), accuracy: try #require(scores["accuracy"]),
                      conflict: Double(conflictsRight) / Double(max(conflicts, 1)), followsPrior: Double(followed) / Double(max(asked, 1)))
    }

    /// `svco train` with the demo's settings and the given objective; returns the model folder.
    static func train(loss: String, output: String) throws -> String {
        let r = try CLITests.run(["train", "--config", config, "--loss", loss, "--output-dir", output, "--threads", "1"])
        try #require(r.status == 0, "svco train --loss \(loss) failed: \(r.output)")
        return output
    }

    /// svco-demo-report, built beside svco.
    static var reportBinary: String {
        URL(fileURLWithPath: CLITests.binary).deletingLastPathComponent().appendingPathComponent("svco-demo-report").path
    }

    /// Runs svco-demo-report from the repository root; its output is discarded. Returns the exit status.
    static func runReport(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: reportBinary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: CLITests.root)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func scratch(_ name: String) -> String {
        NSTemporaryDirectory() + "svco-demo-\(name)-\(getpid())"
    }

    /// The bundled base model (base 0.208 paired, 0.604 accuracy, 0.258 where the picture contradicts the
    /// prior, the prior's answer 85% of the time): a pair is mostly lost because one of its pictures is
    /// answered from the question's wording.
    @Test func theBaseModelAnswersFromTheLanguagePrior() throws {
        let output = Self.scratch("base")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let base = try Self.evaluate(model: "demo/priors/base", output: output)
        #expect(base.paired < 0.3, "base paired accuracy \(base.paired)")
        #expect(base.conflict < 0.35, "base accuracy where the picture contradicts the prior \(base.conflict)")
        #expect(base.followsPrior > 0.75, "base answers that follow the prior \(base.followsPrior)")
    }

    @Test func svcoTeachesTheBaseModelToLookAndBeatsDPO() throws {
        let folder = Self.scratch("train")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let svcoModel = try Self.train(loss: "svco", output: folder + "/svco")
        let svco = try Self.evaluate(model: svcoModel, output: folder + "/eval-svco")
        let blind = try Self.evaluate(model: svcoModel, output: folder + "/eval-svco", noImage: true)
        let dpoModel = try Self.train(loss: "dpo", output: folder + "/dpo")
        let dpo = try Self.evaluate(model: dpoModel, output: folder + "/eval-dpo")
        _ = try Self.evaluate(model: dpoModel, output: folder + "/eval-dpo", noImage: true)

        // Seeds: S-VCO paired 0.45–0.63, accuracy 0.72–0.81, 0.49–0.71 where the picture contradicts the prior.
        #expect(svco.paired > 0.4, "S-VCO paired accuracy \(svco.paired)")
        #expect(svco.accuracy > 0.68, "S-VCO accuracy \(svco.accuracy)")
        #expect(svco.conflict > 0.45, "S-VCO accuracy where the picture contradicts the prior \(svco.conflict)")
        // Without the picture every answer is still a letter, so a pair's two questions get one right:
        // exactly 0.5; the gap to 0.5 is what the picture adds (seeds: 0.22–0.31; the base model: 0.10).
        #expect(blind.accuracy == 0.5, "S-VCO accuracy without the pictures \(blind.accuracy)")
        #expect(svco.accuracy - blind.accuracy > 0.18, "S-VCO no-image gap \(svco.accuracy - blind.accuracy)")
        // Every seed: S-VCO ahead of DPO in paired accuracy, by 0.02–0.38 — the smallest margin is 2 of 120
        // pairs, which one run on another CPU (another summation order, drifting like another seed) could
        // lose. One run can only show that S-VCO is not behind beyond that noise (6 pairs); the ten-seed
        // comparison is in demo/README.md.
        #expect(svco.paired > dpo.paired - 0.05, "S-VCO paired accuracy \(svco.paired), DPO \(dpo.paired)")

        // make demo's last step tabulates and draws these runs: the table carries svco eval's own scores.
        let status = try Self.runReport(["--benchmark", Self.benchmark, "--run", "DPO=\(folder)/eval-dpo",
                                          "--run", "S-VCO=\(folder)/eval-svco", "--output", folder + "/report"])
        try #require(status == 0, "svco-demo-report failed (\(Self.reportBinary))")
        let table = try String(contentsOfFile: folder + "/report/report.md", encoding: .utf8)
        let row = String(format: "| S-VCO | %.3f | %.3f | %.3f | 0.500 |", svco.paired, svco.accuracy, svco.conflict)
        #expect(table.contains(row), "\(row) not in\n\(table)")
        let png = try Data(contentsOf: URL(fileURLWithPath: folder + "/report/report.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "report.png is not a PNG file")
    }
}
