#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Tokenizers

/// The two similarities `svco data similarity` adds to a record.
public struct PairSimilarity: Sendable, Equatable {
    /// Cosine similarity of the two images' SigLIP image features (`get_image_features`).
    public var siglip: Double
    /// Cosine similarity of the two images' DINOv2 `pooler_output` (the layer-normed CLS token).
    public var dinov2: Double

    public init(siglip: Double, dinov2: Double) {
        self.siglip = siglip
        self.dinov2 = dinov2
    }
}

/// One record's two images, paths resolved.
public struct ImagePair: Sendable, Equatable {
    /// The record's position in the input file.
    public var record: Int
    public var first: String
    public var second: String
}

/// `svco data similarity` without the models: reads the pairs, asks `score` for batches of
/// pairs not yet scored, keeps every finished batch in ``ScoringProgressFile`` (`<out>.partial`),
/// and finally writes every record with `siglip_similarity` and `dinov2_similarity` added (other
/// fields as read) to `out`, atomically. A rerun after an interruption scores only the rest.
/// The models live in the caller, so this target needs no libtorch.
public struct SimilarityScoring {
    public let input: String
    public let output: String
    public let imageRoot: String?
    public let batchSize: Int
    /// Identifies the models (the caller's choice: folders and weight sizes); a partial file
    /// made with other models is refused rather than mixed.
    public let models: String

    public init(input: String, output: String, imageRoot: String? = nil, batchSize: Int, models: String) {
        precondition(batchSize > 0, "batch size must be positive")
        self.input = input
        self.output = output
        self.imageRoot = imageRoot
        self.batchSize = batchSize
        self.models = models
    }

    /// Where finished batches are kept until the output is written.
    public var progressPath: String { output + ".partial" }

    /// What a run did.
    public struct Report: Sendable, Equatable {
        public var records: Int
        /// Scores found in the progress file of an earlier run.
        public var resumed: Int
        /// Scored in this run.
        public var scored: Int
    }

    /// Runs the stage. `score` gets pairs (at most `batchSize`) and returns their similarities in
    /// order; its errors stop the run with the finished batches kept for a rerun.
    public func run(progress: ((_ done: Int, _ total: Int, _ resumedFrom: Int) -> Void)? = nil,
                    score: ([ImagePair]) throws -> [PairSimilarity]) throws -> Report {
        let bytes = try Self.read(input)
        let file = try PairFile(bytes: bytes, path: input)
        // Every record's images are checked before any model work, so a bad record near the end
        // of a large file fails in the first second, not after hours.
        var pairs: [ImagePair] = []
        for index in file.records.indices {
            let (a, b) = try file.imagePaths(index, imageRoot: imageRoot)
            for p in [a, b] where !FileManager.default.fileExists(atPath: p) {
                throw DatasetBuildingError(file: input, record: index, field: PairFields.images, reason: "image \(p) does not exist")
            }
            pairs.append(ImagePair(record: index, first: a, second: b))
        }
        if pairs.isEmpty { throw DatasetBuildingError(file: input, reason: "holds no records") }
        let header = ScoringProgressFile.Header(inputHash: Self.fnv1a64(bytes), records: pairs.count, models: models)
        let (partial, found) = try ScoringProgressFile.resume(path: progressPath, header: header)
        var scores = found
        let resumed = scores.count
        progress?(scores.count, pairs.count, resumed)
        let todo = pairs.filter { scores[$0.record] == nil }
        var start = 0
        while start < todo.count {
            let batch = Array(todo[start..<min(start + batchSize, todo.count)])
            let result = try score(batch)
            guard result.count == batch.count else {
                throw DatasetBuildingError(file: input, reason: "the scorer returned \(result.count) results for \(batch.count) pairs")
            }
            for (pair, s) in zip(batch, result) where !(s.siglip.isFinite && s.dinov2.isFinite) {
                throw DatasetBuildingError(file: input, record: pair.record, field: PairFields.images,
                                           reason: "similarity is not a number (an image with all-zero features?)")
            }
            try partial.append(zip(batch, result).map { ($0.record, $1) })
            for (pair, s) in zip(batch, result) { scores[pair.record] = s }
            start += batch.count
            progress?(scores.count, pairs.count, resumed)
        }
        let records = file.records.enumerated().map { index, record -> JSONValue in
            let s = scores[index] ?? PairSimilarity(siglip: .nan, dinov2: .nan)
            return record.setting(PairFields.siglipSimilarity, .number(s.siglip)).setting(PairFields.dinov2Similarity, .number(s.dinov2))
        }
        try PairFile.write(records, to: output)
        partial.remove()
        return Report(records: pairs.count, resumed: resumed, scored: todo.count)
    }

    static func read(_ path: String) throws -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw DatasetBuildingError(file: path, reason: "cannot read the file (\(error))")
        }
    }

    /// 64-bit FNV-1a as 16 hex digits: tells one input file from another (not a security check).
    static func fnv1a64(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash ^= UInt64(b)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
