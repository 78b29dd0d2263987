import ArgumentParser
import Foundation
import Images

/// `svco-demo-report`: the last step of `make demo` (scripts/demo). Reads the `svco eval` folders of the
/// base model and the trained ones on the demo's held-out paired benchmark (demo/priors/mmvp), prints
/// and writes the comparison table (report.md) and draws it with example answers (report.png).
struct DemoReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "svco-demo-report",
        abstract: "Table and picture of make demo's results (base vs trained models on the held-out pairs).")

    @Option(help: "The demo benchmark folder (Questions.csv, MMVP Images/, pairs.json).") var benchmark: String
    @Option(name: .customLong("run"), help: "NAME=FOLDER: an `svco eval` output folder holding mmvp and mmvp_no_image results (repeat; base first).")
    var runSpecs: [String]
    @Option(help: "Folder for report.md and report.png.") var output: String
    @Option(help: "Example pairs drawn under the chart (the first pair of each question family, in order).") var examples = 5

    func validate() throws {
        for r in runSpecs where !r.contains("=") { throw ValidationError("--run '\(r)' is not NAME=FOLDER") }
        if runSpecs.isEmpty { throw ValidationError("give at least one --run NAME=FOLDER") }
    }

    func run() throws {
        let pairs = try DemoResults.pairs(benchmark: benchmark)
        let runs = try runSpecs.map { spec -> DemoRun in
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            return try DemoResults.run(name: parts[0], folder: parts[1], pairs: pairs)
        }
        var shown: [(BenchmarkPair, [String])] = []
        var families = Set<String>()
        for pair in pairs where shown.count < examples && families.insert(pair.family).inserted {
            shown.append((pair, pair.indices.map { "\(benchmark)/MMVP Images/\($0).jpg" }))
        }
        let table = DemoResults.table(runs, pairs: pairs)
        let answers = DemoResults.examples(runs, pairs: shown)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try (table + "\n" + answers).write(toFile: output + "/report.md", atomically: true, encoding: .utf8)
        print(table)
        print(answers)
        let picture = ReportPicture.render(runs: runs, examples: shown, title: "\(pairs.count) HELD-OUT PAIRS: " + runs.map(\.name).joined(separator: " / "))
        try PNGWriter.write(picture, to: output + "/report.png")
        print("wrote \(output)/report.md and \(output)/report.png")
    }
}

DemoReport.main()
