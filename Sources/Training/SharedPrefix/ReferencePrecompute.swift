import Crypto
import Datasets
import Distributed
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
    ///
    /// With `group` (a data-parallel run; every rank calls this) each rank scores its share of the
    /// missing records — positions rank, rank + W, … — and one all-gather gives every rank all values;
    /// rank 0 writes the cache. The ranks first check that they read the same cache (a file system
    /// every node shares); no rank waits for another's whole pass.
    /// - Parameter precision: wraps each forward (e.g. the trainer's autocast), so cached values equal
    ///   what the live reference would give.
    public static func prepare(records: [MVCRecord], kinds: [SequenceKind], builder: BatchBuilder, key: ReferenceCacheKey,
                               cachePath: String, batchSize: Int, levers: ScoringLevers = ScoringLevers(),
                               group: ProcessGroup? = nil,
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
        let world = group?.worldSize ?? 1, rank = group?.rank ?? 0
        if let group {
            // Equal lists of missing records on every rank, or the shares below would not fit together.
            var hasher = SHA256()
            for i in missing { hasher.update(data: digests[i]) }
            // 48 bits of the digest, exact in float64: max(x) == -max(-x) iff every rank has the same list.
            let check = Double(hasher.finalize().prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            let bounds = try group.allReduce([check, -check], .max)
            guard bounds[0] == -bounds[1] else {
                throw TrainingError.io(path: cachePath, reason: "the ranks read different reference log-prob caches (rank \(rank) misses \(missing.count) "
                    + "records): the cache must lie on a file system every node shares")
            }
        }
        if !missing.isEmpty {
            // This rank's share: positions rank, rank + W, … of the missing records.
            let share = Array(stride(from: rank, to: missing.count, by: world).map { missing[$0] })
            var computed: [[Double]] = []
            if !share.isEmpty {
                let reference = try loadReference()
                reference.setTrainable(false, prefixes: [""])
                var start = 0
                while start < share.count {
                    let chunk = Array(share[start..<min(share.count, start + max(1, batchSize))])
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
                    for j in chunk.indices { computed.append(needed.indices.map { values[$0 * chunk.count + j] }) }
                    start += chunk.count
                }
            }
            // Every rank's values: rank q's share, padded to the longest share, at rows q·perRank ..< (q+1)·perRank.
            let perRank = (missing.count + world - 1) / world
            var rows = computed
            if let group {
                let width = needed.count
                var flat = computed.flatMap { $0 }
                flat += Array(repeating: Double.nan, count: (perRank - computed.count) * width)
                let all = Tensor.empty([perRank * width * world], dtype: .float64, device: group.device)
                try group.allGather(into: all, Tensor(flat).to(device: group.device))
                let gathered = all.toArray(Double.self)
                rows = (0..<world).flatMap { q in
                    (0..<perRank).map { j in Array(gathered[(q * perRank + j) * width..<(q * perRank + j + 1) * width]) }
                }
            }
            // Row q·perRank + j holds missing[q + j·W] (in one process: row j holds missing[j]).
            for (row, (q, j)) in (0..<world).flatMap({ q in (0..<perRank).map { (q, $0) } }).enumerated() {
                let position = q + j * world
                guard position < missing.count, row < rows.count else { continue }
                let recordIndex = missing[position]
                var six = entries[digests[recordIndex]] ?? Array(repeating: Double.nan, count: 6)
                for (k, kindIndex) in needed.enumerated() { six[kindIndex] = rows[row][k] }
                entries[digests[recordIndex]] = six
            }
            var writeError: Error?
            if rank == 0 {
                do { try ReferenceLogProbCache.write(path: cachePath, key: key, entries: entries) } catch { writeError = error }
            }
            if let group, try group.any(writeError != nil), writeError == nil {
                throw TrainingError.io(path: cachePath, reason: "rank 0 could not write the reference log-prob cache")
            }
            if let writeError { throw writeError }
        }
        let table = ReferenceLogProbTable()
        for (record, digest) in zip(records, digests) {
            if let v = entries[digest] { table.values[ReferenceLogProbTable.RecordText(record)] = v }
        }
        return (table, Report(reused: reused, computed: missing.count, discarded: discarded))
    }
}
