import ArgumentParser
import Evaluation
import Models
import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco eval`: the paper's benchmarks with greedy decoding; rule-graded ones are scored here.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Answer a benchmark's questions with a LLaVA model and grade them.",
        discussion: """
            --data-root is the benchmark's public release folder (for --benchmark all: a folder holding one
            such folder per benchmark, named mmvp, cvbench, realworldqa, textvqa, scienceqa, mmvet,
            llavabench, mmhal). Writes OUTPUT_DIR/<bench>.jsonl and .txt and merges scores into
            OUTPUT_DIR/summary.json; --no-image runs without images and adds the with/without-image gap.
            MM-Vet, LLaVA-Bench and MMHal-Bench need a GPT judge, which is not implemented yet: their
            responses are written but not scored.
            """)

    @Option(help: "The model folder.") var model: String
    @Option(help: "mmvp, cvbench, realworldqa, textvqa, scienceqa, mmvet, llavabench, mmhal or all.") var benchmark: String
    @Option(help: "The benchmark's release folder (see below).") var dataRoot: String
    @Option(help: "Folder for the answers and scores.") var outputDir: String
    @Option(help: "Only the first N questions (MMVP: rounded up to whole pairs).") var limit: Int?
    @Flag(help: "Ask without the images (the visual-dependence diagnostic).") var noImage = false
    @Option(help: "Questions per generation batch.") var batchSize = 8
    @Option var maxNewTokens = 128
    @Option(help: "0 = greedy, as the paper.") var temperature = 0.0
    @Flag(help: "Apply the four publicly reported MMVP label corrections (off to match the paper).") var mmvpLabelFixes = false
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if benchmark != "all" && BenchmarkName(rawValue: benchmark) == nil {
            throw ValidationError("--benchmark '\(benchmark)' is not one of \(BenchmarkName.allCases.map(\.rawValue).joined(separator: ", ")), all")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if batchSize < 1 || maxNewTokens < 1 { throw ValidationError("--batch-size and --max-new-tokens must be at least 1") }
        if temperature < 0 { throw ValidationError("--temperature must not be negative") }
        try runtime.validate()
    }

    func run() throws {
        let device = try runtime.apply()
        let answerer = try Answerer(modelDirectory: model, dtype: runtime.parsedDType, device: device)
        var settings = EvaluationRun.Settings()
        settings.limit = limit
        settings.withImages = !noImage
        settings.batchSize = batchSize
        settings.generation = GenerationOptions(maxNewTokens: maxNewTokens, temperature: temperature)
        settings.mmvpLabelFixes = mmvpLabelFixes
        let names = benchmark == "all" ? BenchmarkName.allCases : [BenchmarkName(rawValue: benchmark) ?? .mmvp]
        var table: [(String, String, Double)] = []
        for name in names {
            let root = benchmark == "all" ? dataRoot + "/" + name.rawValue : dataRoot
            let scores = try EvaluationRun.run(name, dataRoot: root, answerer: answerer, outputDir: outputDir, settings: settings)
            for key in scores.keys.sorted() { table.append((name.rawValue + (noImage ? " (no image)" : ""), key, scores[key] ?? 0)) }
        }
        print("")
        for (bench, key, value) in table { print("\(bench.padding(to: 24)) \(key.padding(to: 26)) \(format(value, 4))") }
        print("scores: \(outputDir)/summary.json")
    }
}
