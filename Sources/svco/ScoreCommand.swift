import AtomicFiles
import ArgumentParser
import Datasets
import Models
import Torch
import Training
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco score`: the six per-sequence log-probs of every record — how much a model uses the image.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Write per-record log-probs of the six sequences (cc, rc, cr, rr, nc, nr) and, with a reference, the rewards.")

    @Option(help: "The model folder to score.") var model: String
    @Option(help: "A reference model folder; adds rewards (policy − reference) and the four reward comparisons.") var reference: String?
    @Option(help: "MVC JSON records.") var data: String
    @Option(help: "Folder relative image paths resolve against (default: the data file's folder).") var imageRoot: String?
    @Flag(help: "Allow image paths that lead outside the image root.") var allowOutsideRoot = false
    @Option(parsing: .unconditional, help: "Maximum sequence length, image placeholders counting one token.") var maxLength = 128
    @Option(parsing: .unconditional, help: "Records per forward pass.") var batchSize = 4
    @Option(help: "Output JSON-lines file (written atomically).") var out: String
    @Option(help: "Also write the reference's log-probs to this cache file (the one `svco train --precompute-ref-log-probs --ref-log-probs-cache FILE` reads; entries under the same key are reused).")
    var refLogProbsCache: String?
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if batchSize < 1 || maxLength < 1 { throw ValidationError("--batch-size and --max-length must be at least 1") }
        if refLogProbsCache != nil && reference == nil { throw ValidationError("--ref-log-probs-cache needs --reference") }
        try runtime.validate()
    }

    func run() throws {
        MemoryAdvice.set(MemoryAdvice.batches)
        let device = try runtime.apply()
        let model = try resolveModel(self.model), reference = try self.reference.map(resolveModel)
        let policy = try ModelRegistry.load(directory: model, dtype: runtime.parsedDType, device: device)
        let ref = try reference.map { try ModelRegistry.load(directory: $0, dtype: runtime.parsedDType, device: device) }
        let builder = try ModelInputs.batchBuilder(modelDirectory: model, model: policy, maxLength: maxLength)
        let records = try MVCDataset(file: data, imageRoot: imageRoot, allowOutsideRoot: allowOutsideRoot).records
        var table: ReferenceLogProbTable?
        if let cachePath = refLogProbsCache, let ref, let reference {
            let key = try ReferenceCaching.key(referenceDirectory: reference, inputsDirectory: model, builder: builder,
                                               precision: ref.dtype == .float32 ? "float32" : "weights-\(ref.dtype)")
            let (found, report) = try ReferencePrecompute.prepare(records: records, kinds: SequenceKind.allCases, builder: builder, key: key,
                                                                  cachePath: cachePath, batchSize: batchSize, loadReference: { ref })
            ReferenceCaching.describe(report, path: cachePath)
            table = found
        }
        let summary = try Self.score(records: records, policy: policy, reference: table == nil ? ref : nil, table: table,
                                     builder: builder, batchSize: batchSize)
        try AtomicFile.write(to: out) { file in
            for line in summary.lines { try file.write(Array((line + "\n").utf8)) }
        }
        print("scored \(records.count) records → \(out)")
        if ref != nil {
            print("reward accuracies (fraction of records where the first sequence's reward beats the second's):")
            for (name, value) in summary.accuracies { print("  \(name.padding(to: 22)) \(format(value, 3))") }
        }
    }

    struct Summary {
        var lines: [String]
        var accuracies: [(String, Double)]
    }

    /// - Parameter table: precomputed reference log-probs, used when `reference` is nil.
    static func score(records: [MVCRecord], policy: any VisionLanguageModel, reference: (any VisionLanguageModel)?,
                      table: ReferenceLogProbTable? = nil, builder: BatchBuilder, batchSize: Int) throws -> Summary {
        var lines: [String] = []
        var wins = [0, 0, 0, 0]
        let keys = ["cc", "rc", "cr", "rr", "nc", "nr"]
        try Autograd.noGrad {
            var start = 0
            while start < records.count {
                let end = min(records.count, start + batchSize)
                let batch = try builder.build(Array(records[start..<end]))
                let pi = try policy.sixSequenceLogProbs(batch)
                let ref = try reference.map { try $0.sixSequenceLogProbs(batch) }
                    ?? table.map { try $0.logProbs(for: Array(records[start..<end]), kinds: SequenceKind.allCases, device: policy.device) }
                let piValues = pi.named.map { $0.value.toArray(Double.self) }
                let refValues = ref?.named.map { $0.value.toArray(Double.self) }
                for r in 0..<(end - start) {
                    var fields = ["\"index\": \(start + r)"]
                    for (k, key) in keys.enumerated() { fields.append("\"\(key)\": \(piValues[k][r])") }
                    if let refValues {
                        let reward = (0..<6).map { piValues[$0][r] - refValues[$0][r] }
                        for (k, key) in keys.enumerated() { fields.append("\"reward_\(key)\": \(reward[k])") }
                        // cc > nc, nc > rc, rr > nr, nr > cr (SVCO-SPEC §4).
                        for (t, (a, b)) in [(0, 4), (4, 1), (3, 5), (5, 2)].enumerated() where reward[a] > reward[b] { wins[t] += 1 }
                    }
                    lines.append("{" + fields.joined(separator: ", ") + "}")
                }
                start = end
            }
        }
        let names = ["img_win_vs_no_img", "no_img_vs_img_lose", "img_lose_vs_no_img", "no_img_vs_img_win"]
        let accuracies = reference == nil && table == nil ? [] : zip(names, wins).map { ($0, Double($1) / Double(max(1, records.count))) }
        return Summary(lines: lines, accuracies: accuracies)
    }
}
