import Datasets
import Distributed
import Models
import Torch
import Training
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The reference log-prob cache as `svco train --precompute-ref-log-probs` and `svco score --reference
/// … --ref-log-probs-cache` use it: one key recipe, one cache file format, one precompute pass.
enum ReferenceCaching {
    /// The key of `referenceDirectory` scored with the inputs (tokenizer, template, processor) of
    /// `builder`, made from `inputsDirectory`.
    static func key(referenceDirectory: String, inputsDirectory: String, builder: BatchBuilder, precision: String) throws -> ReferenceCacheKey {
        try ReferenceCacheKey.make(referenceDirectory: referenceDirectory, inputsDirectory: inputsDirectory,
                                   template: builder.collator.template.source, maxLength: builder.collator.maxLength,
                                   addEOS: builder.collator.family == .llava15 ? true : nil, precision: precision)
    }

    /// `svco train --precompute-ref-log-probs`: the table of the training and evaluation records, from
    /// the cache or computed with the reference model (loaded only on a miss, freed on return).
    /// With `group`, every rank scores its share and rank 0 prints and writes (see `ReferencePrecompute`).
    static func precompute(args: TrainingArguments, loss: any PreferenceLoss, builder: BatchBuilder, records: [MVCRecord],
                           device: Device, group: ProcessGroup? = nil) throws -> ReferenceLogProbTable {
        let isMain = group?.isMain ?? true
        let autocast = args.autocastDType
        let precision = autocast.map { "float32-autocast-\($0)" } ?? "float32"
        let key = try key(referenceDirectory: args.modelNameOrPath, inputsDirectory: args.modelNameOrPath, builder: builder, precision: precision)
        try FileManager.default.createDirectory(atPath: args.outputDir, withIntermediateDirectories: true)
        let path = args.refLogProbsCache ?? args.outputDir + "/reference_logps.bin"
        let kinds = loss.sequenceKinds
        let (table, report) = try ReferencePrecompute.prepare(
            records: records, kinds: kinds, builder: builder, key: key, cachePath: path, batchSize: args.perDeviceEvalBatchSize,
            group: group,
            precision: { body in
                if let autocast { try Autocast.run(device: device, dtype: autocast, body) } else { try body() }
            },
            loadReference: {
                if isMain {
                    print("computing reference log-probs of \(records.count) records (\(kinds.map(\.rawValue).joined(separator: ", ")))"
                        + (group.map { " on \($0.worldSize) ranks" } ?? ""))
                }
                let reference = try ModelRegistry.load(directory: args.modelNameOrPath, dtype: .float32, device: device)
                SVCOTrainer.freeze(reference: reference, args: args)
                return reference
            })
        if isMain { describe(report, path: path) }
        return table
    }

    static func describe(_ report: ReferencePrecompute.Report, path: String) {
        if let why = report.discarded { print("reference log-prob cache \(path) not used: \(why)") }
        print("reference log-probs: \(report.reused) records from the cache, \(report.computed) computed → \(path)")
    }
}
