import ArgumentParser
import Evaluation
import Judge
import OpenAIClient
import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco eval`: the paper's benchmarks with greedy decoding; rule-graded ones are scored here,
/// MM-Vet, LLaVA-Bench and MMHal-Bench by an OpenAI-compatible judge.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Answer a benchmark's questions with a LLaVA model and grade them.",
        discussion: """
            --data-root is the benchmark's public release folder (for --benchmark all: a folder holding one \
            such folder per benchmark, named mmvp, cvbench, realworldqa, textvqa, scienceqa, mmvet, \
            llavabench, mmhal). Writes OUTPUT_DIR/<bench>.jsonl and .txt and merges scores into \
            OUTPUT_DIR/summary.json; --no-image runs without images and adds the with/without-image gap.

            MM-Vet, LLaVA-Bench (its folder also needs llavabench_gpt_review_rule.json) and MMHal-Bench \
            are graded by a chat-completions judge with each benchmark's official prompt and settings. The \
            key comes from OPENAI_API_KEY; replies are cached in --judge-cache (default \
            OUTPUT_DIR/judge-cache), keyed by the whole request, so a rerun asks nothing again and needs no \
            key. --judge-model defaults to each official script's model (mmvet gpt-4-0613, llavabench and \
            mmhal gpt-4-0314; OpenAI has retired both: name a current model to run against OpenAI).
            """)

    @Option(help: "The model folder.") var model: String
    @Option(help: "mmvp, cvbench, realworldqa, textvqa, scienceqa, mmvet, llavabench, mmhal or all.") var benchmark: String
    @Option(help: "The benchmark's release folder (see below).") var dataRoot: String
    @Option(help: "Folder for the answers and scores.") var outputDir: String
    @Option(help: "Only the first N questions (MMVP: rounded up to whole pairs).") var limit: Int?
    @Flag(help: "Ask without the images (the visual-dependence diagnostic).") var noImage = false
    @Option(help: "Questions per generation batch.") var batchSize = 8
    @Option(help: "New tokens per answer at most (the paper: 128).") var maxNewTokens = 128
    @Option(help: "0 = greedy, as the paper.") var temperature = 0.0
    @Flag(help: "Apply the four publicly reported MMVP label corrections (off to match the paper).") var mmvpLabelFixes = false
    @Option(help: "OpenAI-compatible API root of the judge.") var judgeBaseUrl = "https://api.openai.com/v1"
    @Option(help: "Judge model (default: the benchmark's official one).") var judgeModel: String?
    @Option(help: "Judge requests in flight at once.") var judgeConcurrency = 4
    @Option(help: "Attempts per judge request on 429, 5xx and connection errors.") var judgeAttempts = 6
    @Option(help: "Judge reply cache folder (default OUTPUT_DIR/judge-cache).") var judgeCache: String?
    @Flag(help: "Write the judged benchmarks' responses without asking the judge.") var skipJudge = false
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if benchmark != "all" && BenchmarkName(rawValue: benchmark) == nil {
            throw ValidationError("--benchmark '\(benchmark)' is not one of \(BenchmarkName.allCases.map(\.rawValue).joined(separator: ", ")), all")
        }
        if let limit { try FlagCheck.atLeast(limit, 1, "--limit") }
        try FlagCheck.atLeast(batchSize, 1, "--batch-size")
        try FlagCheck.atLeast(maxNewTokens, 1, "--max-new-tokens")
        try FlagCheck.finite(temperature, "--temperature", "≥ 0") { $0 >= 0 }
        try FlagCheck.atLeast(judgeConcurrency, 1, "--judge-concurrency")
        try FlagCheck.atLeast(judgeAttempts, 1, "--judge-attempts")
        if !(judgeBaseUrl.hasPrefix("http://") || judgeBaseUrl.hasPrefix("https://")) {
            throw ValidationError("--judge-base-url '\(judgeBaseUrl)' is not an http:// or https:// URL")
        }
        try runtime.validate()
    }

    func run() async throws {
        MemoryAdvice.set(MemoryAdvice.batches)
        let names = benchmark == "all" ? BenchmarkName.allCases : [BenchmarkName(rawValue: benchmark) ?? .mmvp]
        let judged = names.filter { !$0.isRuleGraded }
        let cacheDirectory = judgeCache ?? outputDir + "/judge-cache"
        let apiKey = ChatCompletionsClient.apiKeyFromEnvironment()
        let cache = ResponseCache(directory: cacheDirectory)
        // Fail before generating: without a key only a rerun with cached replies can be judged.
        if !judged.isEmpty && !skipJudge && apiKey == nil && cache.entryCount() == 0 {
            throw CLIError("OPENAI_API_KEY is not set; \(judged.map(\.rawValue).joined(separator: ", ")) need(s) the judge "
                + "(or pass --skip-judge to write the responses unscored)")
        }

        let device = try runtime.apply()
        let model = try await resolveModelAsync(self.model)
        let answerer = try Answerer(modelDirectory: model, dtype: runtime.parsedDType, device: device)
        var settings = EvaluationRun.Settings()
        settings.limit = limit
        settings.withImages = !noImage
        settings.batchSize = batchSize
        settings.answering = AnswerSettings(maxNewTokens: maxNewTokens, temperature: temperature)
        settings.mmvpLabelFixes = mmvpLabelFixes
        var table: [(String, String, Double)] = []
        for name in names {
            let root = benchmark == "all" ? dataRoot + "/" + name.rawValue : dataRoot
            var judge: OpenAIJudge?
            if !name.isRuleGraded && !skipJudge {
                let client = ChatCompletionsClient.Settings(baseURL: judgeBaseUrl, concurrency: judgeConcurrency,
                                                            retry: RetryPolicy(maxAttempts: judgeAttempts), service: "judge")
                judge = OpenAIJudge(model: judgeModel ?? name.officialJudgeModel ?? "",
                                    client: try ChatCompletionsClient(settings: client, apiKey: apiKey, cache: cache) { print($0) })
            }
            let scores = try await EvaluationRun.run(name, dataRoot: root, answerer: answerer, outputDir: outputDir, settings: settings,
                                                     judge: judge)
            for key in scores.keys.sorted() { table.append((name.rawValue + (noImage ? " (no image)" : ""), key, scores[key] ?? 0)) }
        }
        print("")
        for (bench, key, value) in table { print("\(bench.padding(to: 24)) \(key.padding(to: 26)) \(format(value, 4))") }
        print("scores: \(outputDir)/summary.json")
    }
}
