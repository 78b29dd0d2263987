import Datasets
import Models
import Torch

/// `--precompute-ref-log-probs` (TRL's name): the frozen reference model's log-probs of every training
/// and evaluation record, computed once (batched, without autograd) before training and kept in a
/// cache file, so that training never loads the reference model.
public enum ReferencePrecompute {
    /// What `prepare` did, for the log.
    public struct Report: Sendable, Equatable {
        public var reused: Int
        public var computed: Int
        /// Why cached values were not used (nil when the cache was absent or valid).
        public var discarded: String?
    }

    /// Reads the cache at `cachePath`; computes (with the model `loadReference` returns, called only when
    /// some record is missing) the `kinds` of every record not in it under the same key; rewrites the
    /// cache; returns the table the trainer looks values up in.
    /// - Parameter precision: wraps each forward (e.g. the trainer's autocast), so cached values equal
    ///   what the live reference would give.
    public static func prepare(records: [MVCRecord], kinds: [SequenceKind], builder: BatchBuilder, key: ReferenceCacheKey,
                               cachePath: String, batchSize: Int, levers: ScoringLevers = ScoringLevers(),
                               precision: (() throws -> Void) throws -> Void = { try $0() },
                               loadReference: () throws -> any VisionLanguageModel) throws -> (ReferenceLogProbTable, Report) {
        var entries: [[UInt8]: [Double]] = [:]
        var discarded: String?
        switch ReferenceLogProbCache.read(path: cachePath, key: key) {
        case .entries(let found): entries = found
        case .absent: break
        case .keyChanged(let found): discarded = "made under another key (\(found.prefix(12))…, now \(key.value.prefix(12))…)"
        case .corrupt(let reason): discarded = "corrupt: \(reason)"
        }
        let needed = kinds.compactMap { ReferenceLogProbCache.kindOrder.firstIndex(of: $0) }
        var digests: [[UInt8]] = []
        var missing: [Int] = []
        for (i, record) in records.enumerated() {
            let digest = try Digests.record(record)
            digests.append(digest)
            if let v = entries[digest], needed.allSatisfy({ !v[$0].isNaN }) { continue }
            missing.append(i)
        }
        let reused = records.count - missing.count
        // Records appearing twice are computed once.
        var seen = Set<[UInt8]>()
        missing = missing.filter { seen.insert(digests[$0]).inserted }
        if !missing.isEmpty {
            let reference = try loadReference()
            reference.setTrainable(false, prefixes: [""])
            var start = 0
            while start < missing.count {
                let chunk = Array(missing[start..<min(missing.count, start + max(1, batchSize))])
                let batch = try builder.buildPacked(chunk.map { records[$0] }, kinds: kinds, levers: levers)
                var values: [Double] = []
                try precision {
                    try Autograd.noGrad {
                        let scored = try PackedScoring.logProbs(batch, policy: nil, reference: reference)
                        if let ref = scored.reference {
                            values = Tensor.cat(kinds.map { kind in ref.named.first { $0.key == kind.rawValue }?.value ?? ref.cc })
                                .to(.float64).toArray(Double.self)
                        }
                    }
                }
                for (j, recordIndex) in chunk.enumerated() {
                    var six = entries[digests[recordIndex]] ?? Array(repeating: Double.nan, count: 6)
                    for (k, kindIndex) in needed.enumerated() { six[kindIndex] = values[k * chunk.count + j] }
                    entries[digests[recordIndex]] = six
                }
                start += chunk.count
            }
            try ReferenceLogProbCache.write(path: cachePath, key: key, entries: entries)
        }
        let table = ReferenceLogProbTable()
        for (record, digest) in zip(records, digests) {
            if let v = entries[digest] { table.values[ReferenceLogProbTable.RecordText(record)] = v }
        }
        return (table, Report(reused: reused, computed: missing.count, discarded: discarded))
    }
}
