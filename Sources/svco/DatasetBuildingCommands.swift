import ArgumentParser
import DatasetBuilding
import ImageSimilarity
import OpenAIClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco data similarity`: SigLIP and DINOv2 cosine similarities of each record's two images.
struct DataSimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Add each pair's SigLIP and DINOv2 image similarities to its record (resumable).",
        discussion: """
            For every record, the cosine similarity of its two images' SigLIP image
            features (get_image_features: the attention-pooling head's output) becomes
            siglip_similarity, and of their DINOv2 pooler_output (the layer-normed CLS
            token) dinov2_similarity; other fields are kept as they are. --siglip takes a
            SiglipModel folder (its text half is not needed) or a SiglipVisionModel
            folder, --dinov2 a Dinov2Model folder; each image is preprocessed by the
            folder's preprocessor_config.json. Finished batches are kept in OUT.partial; a
            rerun after an interruption scores only the rest. OUT is written whole at the
            end.
            """)

    @Option(help: "Pair records (a JSON array; each has 'images': two paths).") var data: String
    @Option(help: "SigLIP model folder (e.g. google/siglip-so400m-patch14-384).") var siglip: String
    @Option(help: "DINOv2 model folder (e.g. facebook/dinov2-large).") var dinov2: String
    @Option(help: "Output file (written atomically when all pairs are scored).") var out: String
    @Option(help: "Pairs per batch (each batch runs 2 × this many images through each model).") var batchSize = 16
    @Option(help: "Folder relative image paths resolve against (default: the data file's folder).") var imageRoot: String?
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        try FlagCheck.atLeast(batchSize, 1, "--batch-size")
    }

    func run() throws {
        MemoryAdvice.set(MemoryAdvice.batches)
        let device = try runtime.apply()
        let scorer = try ImagePairScorer(siglipDirectory: siglip, dinov2Directory: dinov2, dtype: runtime.parsedDType, device: device)
        let stage = SimilarityScoring(input: data, output: out, imageRoot: imageRoot, batchSize: batchSize, models: scorer.fingerprint)
        var bar: ProgressBar?
        var seconds = 0.0  // scoring only (decode, preprocess, both models), not loading the models
        let report = try stage.run(progress: { done, total, resumed in
            if bar == nil { bar = ProgressBar(total: total, unit: "pairs", label: "similarity", start: resumed) }
            bar?.update(done)
        }) { pairs in
            let start = ContinuousClock.now
            defer {
                let elapsed = (ContinuousClock.now - start).components
                seconds += Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            }
            return try scorer.score(pairs.map { ($0.first, $0.second) }).map { PairSimilarity(siglip: $0.siglip, dinov2: $0.dinov2) }
        }
        bar?.finish()
        var line = "\(report.scored) pairs scored"
        if report.resumed > 0 { line += ", \(report.resumed) resumed from \(stage.progressPath)" }
        if report.scored > 0 && seconds > 0 {
            let rate = Double(scorer.imagesEncoded) / seconds
            line += " in \((seconds * 10).rounded() / 10) s (\(ProgressBar.format(rate)) images/s through both models)"
        }
        print(line + " → \(out)")
    }
}

/// `svco data filter`: similarity thresholds, FineCops-Ref "Order" dropped, category-balanced sampling.
struct DataFilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Keep the scored pairs that SigLIP finds alike and DINOv2 finds different; optionally sample by category.",
        discussion: """
            In order: a record of FineCops-Ref's "Order" category (--source-field names
            FineCops-Ref, --category-field says order) is dropped; then, unless --no-
            similarity-filter, a record is kept only if siglip_similarity > --min-siglip
            and dinov2_similarity < --max-dinov2 (the paper's 0.7 and 0.5, strict); then
            --sample N draws N of the survivors keeping each category's share (largest
            remainders, seeded). Prints a kept/dropped table per category.
            """)

    @Option(help: "Pair records (a JSON array), scored by `svco data similarity` unless --no-similarity-filter.") var data: String
    @Option(help: "Output file (written atomically).") var out: String
    @Option(help: "Keep pairs whose SigLIP similarity is above this.") var minSiglip = SimilarityFilter.defaultMinSiglip
    @Option(help: "Keep pairs whose DINOv2 similarity is below this.") var maxDinov2 = SimilarityFilter.defaultMaxDinov2
    @Flag(help: "No similarity thresholds (the paper's left-right flips are sampled, not filtered).") var noSimilarityFilter = false
    @Option(help: "The field holding each record's category.") var categoryField = PairFields.defaultCategory
    @Option(help: "The field naming each record's source dataset.") var sourceField = PairFields.defaultSource
    @Option(help: "Keep this many records, in the input's category proportions.") var sample: Int?
    @Option(help: "Seed of the sampling.") var seed: UInt64 = 42

    func validate() throws {
        try FlagCheck.finite(minSiglip, "--min-siglip", "in [-1, 1]") { (-1...1).contains($0) }
        try FlagCheck.finite(maxDinov2, "--max-dinov2", "in [-1, 1]") { (-1...1).contains($0) }
        if let sample { try FlagCheck.atLeast(sample, 1, "--sample") }
        for (flag, value) in [("--category-field", categoryField), ("--source-field", sourceField)] where value.isEmpty {
            throw ValidationError("\(flag) must not be empty")
        }
    }

    func run() throws {
        let file = try PairFile(path: data)
        let filter = SimilarityFilter(thresholds: noSimilarityFilter ? nil : (minSiglip, maxDinov2), categoryField: categoryField,
                                      sourceField: sourceField, sample: sample, seed: seed)
        let (kept, summary) = try filter.apply(file)
        guard !kept.isEmpty else {
            print(summary.table())
            throw CLIError("no record of \(data) passes the filter; \(out) not written")
        }
        try PairFile.write(kept, to: out)
        print(summary.table())
        print("\(kept.count) of \(file.records.count) records → \(out)")
    }
}

/// `svco data augment`: the two-stage rewrite of captions into MVC records.
struct DataAugmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Rewrite each pair's captions into a shared question and one answer per image (MVC records).",
        discussion: """
            Two chat requests per pair through an OpenAI-compatible API: stage 1 turns the
            two captions into a question both images answer differently plus one answer
            per image; stage 2 rewords them, keeping every fact that tells the images
            apart. Replies must be a bare JSON object with question, answer_1 and answer_2
            (different, non-empty); an unusable reply is re-asked up to --reply-attempts
            replies. A record that still fails is reported, written to OUT.failed.json and
            skipped. The key comes from OPENAI_API_KEY; replies are cached in --cache
            (default OUT.cache), keyed by the whole request, so a rerun asks only for what
            is missing and needs no key once everything is cached.
            """)

    @Option(help: "Pair records with 'images' and 'captions' (repeat to combine files).") var data: [String]
    @Option(help: "Output MVC records (written atomically).") var out: String
    @Option(help: "Chat model, e.g. gpt-4o.") var model: String
    @Option(help: "OpenAI-compatible API root.") var baseUrl = "https://api.openai.com/v1"
    @Option(help: "Records in flight at once.") var concurrency = 4
    @Option(help: "Attempts per request on 429, 5xx and connection errors.") var requestAttempts = 6
    @Option(help: "Replies per stage before a record is skipped (first ask plus re-asks).") var replyAttempts = 3
    @Option(help: "Reply cache folder (default OUT.cache).") var cache: String?
    @Option(help: "Folder relative image paths resolve against (default: each data file's folder).") var imageRoot: String?
    @Option(help: "The field whose value hints stage 1 at the kind of difference.") var categoryField = PairFields.defaultCategory

    func validate() throws {
        if data.isEmpty { throw ValidationError("--data is required") }
        try FlagCheck.atLeast(concurrency, 1, "--concurrency")
        try FlagCheck.atLeast(requestAttempts, 1, "--request-attempts")
        try FlagCheck.atLeast(replyAttempts, 1, "--reply-attempts")
        if model.isEmpty { throw ValidationError("--model must not be empty") }
        if !(baseUrl.hasPrefix("http://") || baseUrl.hasPrefix("https://")) {
            throw ValidationError("--base-url '\(baseUrl)' is not an http:// or https:// URL")
        }
    }

    func run() async throws {
        let settings = ChatCompletionsClient.Settings(baseURL: baseUrl, concurrency: concurrency,
                                                      retry: RetryPolicy(maxAttempts: requestAttempts), service: "augment")
        // Each record asks on its own, so the client's per-call request counts would print a line
        // per request; only its retry notices are shown.
        let client = try ChatCompletionsClient(settings: settings, apiKey: ChatCompletionsClient.apiKeyFromEnvironment(),
                                               cache: ResponseCache(directory: cache ?? out + ".cache")) { line in
            if line.contains("retrying") { printError(line) }
        }
        let rewriting = CaptionRewriting(client: client, settings: .init(model: model, replyAttempts: replyAttempts,
                                                                          concurrency: concurrency, imageRoot: imageRoot,
                                                                          categoryField: categoryField))
        let bar = SerialProgress()
        let report = try await rewriting.run(inputs: data, output: out, progress: { done, total in bar.update(done, total) },
                                             log: { printError($0) })
        bar.finish()
        print("\(report.written) MVC records → \(out)")
        if let failed = report.failuresFile {
            printError("\(report.failures.count) record(s) skipped; they are in \(failed) with the reason in '\(CaptionRewriting.errorField)'")
        }
    }
}

/// The augment progress bar, created on the first report. `CaptionRewriting` reports from its
/// collecting loop only, one call at a time, which is what makes the unchecked sendability sound.
final class SerialProgress: @unchecked Sendable {
    private var bar: ProgressBar?

    func update(_ done: Int, _ total: Int) {
        if bar == nil { bar = ProgressBar(total: total, unit: "records", label: "augment") }
        bar?.update(done)
    }

    func finish() { bar?.finish() }
}
