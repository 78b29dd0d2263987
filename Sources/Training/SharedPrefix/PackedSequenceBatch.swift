import Datasets
import Models
import NN
import Torch

/// The work-saving levers of a scoring pass. Each is exact (the same log-probs and gradients up to
/// float rounding) and on by default; they exist separately so that `make bench` can show each one's
/// gain and `svco train --no-prefix-sharing` can compare.
public struct ScoringLevers: Sendable, Equatable {
    /// cc/cr, rc/rr and nc/nr share one row each: their common prefix (image + prompt) is computed once.
    public var sharePrefixes = true
    /// Rows without an image run in their own forward, padded to their own (short) width.
    public var separateTextOnlyRows = true
    /// Each distinct image is encoded once per step; under a frozen tower shared with the reference model,
    /// once for both models (each applies its own projector).
    public var encodeImagesOnce = true

    public init(sharePrefixes: Bool = true, separateTextOnlyRows: Bool = true, encodeImagesOnce: Bool = true) {
        self.sharePrefixes = sharePrefixes
        self.separateTextOnlyRows = separateTextOnlyRows
        self.encodeImagesOnce = encodeImagesOnce
    }
}

/// The sequences of a batch of records laid out by `PrefixPacking`, with the pixels of every image the
/// plan names. Log-probs come back kind-major in the order of `kinds` (as `SixSequenceBatch`).
public struct PackedSequenceBatch {
    public var plan: PackedBatchPlan
    /// `[N, 3, H, W]` in `plan.images` order; nil when no sequence has an image.
    public var pixelValues: Tensor?
    public var recordCount: Int
    public var kinds: [SequenceKind]
    public var levers: ScoringLevers
}

extension BatchBuilder {
    /// The kinds that show the same image (or none) and so share everything before the answer.
    public static let prefixPairs: [(SequenceKind, SequenceKind)] = [(.cc, .cr), (.rc, .rr), (.nc, .nr)]

    /// The rows of `kinds` for `records` as packed forwards. Sequences are tokenised, truncated and
    /// expanded exactly as `build` does; only the layout differs.
    public func buildPacked(_ records: [MVCRecord], kinds: [SequenceKind] = SequenceKind.allCases,
                            levers: ScoringLevers = ScoringLevers()) throws -> PackedSequenceBatch {
        var sequences: [ScoredSequence] = []
        var indexOf: [SequenceKind: [Int]] = [:]
        var pathOf: [String: String] = [:]
        for (k, kind) in kinds.enumerated() {
            for (r, record) in records.enumerated() {
                let s = try collator.sequence(record, kind)
                let row = ImageTokens.expand(ids: s.ids, labels: s.labels, imageToken: imageToken, featureCount: featureCount)
                let owner = k * records.count + r
                // Without either lever every sequence gets its own copy of its images, as unpacked batches
                // have. A shared prefix holds its image once by construction (one encode per pair and model);
                // encoding once per step for both models is the separate `encodeImagesOnce` lever.
                let keys = levers.encodeImagesOnce || levers.sharePrefixes ? s.images : s.images.map { "\($0)\u{0}\(owner)" }
                for (key, path) in zip(keys, s.images) { pathOf[key] = path }
                indexOf[kind, default: []].append(sequences.count)
                sequences.append(ScoredSequence(ids: row.ids, labels: row.labels, images: keys, owner: owner))
            }
        }
        var pairs: [(Int, Int)] = []
        for (a, b) in Self.prefixPairs {
            if let first = indexOf[a], let second = indexOf[b] { pairs += zip(first, second).map { ($0, $1) } }
        }
        let plan = try PrefixPacking.plan(sequences, pairs: pairs, sequenceCount: sequences.count, imageToken: imageToken,
                                          featureCount: featureCount, fillId: 0,
                                          options: .init(sharePrefixes: levers.sharePrefixes,
                                                         separateTextOnlyRows: levers.separateTextOnlyRows))
        let pixels = try plan.images.map { try self.pixels(pathOf[$0] ?? $0) }
        return PackedSequenceBatch(plan: plan, pixelValues: pixels.isEmpty ? nil : Tensor.cat(pixels, dim: 0),
                                   recordCount: records.count, kinds: kinds, levers: levers)
    }
}

/// Scores packed batches with a policy and (optionally) a frozen reference model.
public enum PackedScoring {
    /// Whether none of `model`'s vision-tower parameters trains.
    static func towerIsFrozen(_ model: any VisionLanguageModel) -> Bool {
        !model.component(.visionTower).namedParameters().contains { $0.parameter.trainable }
    }

    /// Per-sequence log-probs `[kinds · B]` of `batch` for the policy (recording autograd as the caller
    /// does) and the reference (never recording). With `encodeImagesOnce`, a frozen tower encodes each
    /// image once, without autograd, and a reference holding the same tower object reuses those features.
    public static func logProbs(_ batch: PackedSequenceBatch, policy: (any VisionLanguageModel)?, reference: (any VisionLanguageModel)?) throws
        -> (policy: SixSequenceLogProbs?, reference: SixSequenceLogProbs?)
    {
        var shared: (tower: Module, features: Tensor)?
        func images(for model: any VisionLanguageModel) -> PackedImages? {
            guard let pixels = batch.pixelValues else { return nil }
            guard batch.levers.encodeImagesOnce, towerIsFrozen(model) else { return .pixels(pixels) }
            let tower = model.component(.visionTower)
            if let shared, shared.tower === tower { return .visionFeatures(shared.features) }
            let features = Autograd.noGrad { model.visionFeatures(pixels) }
            shared = (tower, features)
            return .visionFeatures(features)
        }
        let counts = Tensor(batch.plan.tokenCounts, shape: [batch.plan.tokenCounts.count])
        func split(_ stacked: Tensor) -> SixSequenceLogProbs {
            SixSequenceLogProbs(stacked: stacked, kinds: batch.kinds, tokenCounts: counts.to(device: stacked.device))
        }
        let pi = try policy.map { try split($0.packedLogProbs(batch.plan, images: images(for: $0))) }
        let ref = try reference.map { model in
            try Autograd.noGrad { try split(model.packedLogProbs(batch.plan, images: images(for: model))) }
        }
        return (pi, ref)
    }
}
