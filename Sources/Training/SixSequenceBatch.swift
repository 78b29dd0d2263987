import Datasets
import Images
import ImageTensors
import Models
import Torch

/// The six sequences of a batch of records (or the subset a loss needs) as model inputs. Rows are
/// ordered by kind, then record (all cc rows, then all rc rows, …, in the order of `kinds`), so that
/// per-sequence log-probs split back with `SixSequenceLogProbs(stacked:kinds:)`.
public struct SixSequenceBatch {
    /// `[6B, T]` int64, image tokens expanded to the image's feature positions, right-padded.
    public var inputIds: Tensor
    public var attentionMask: Tensor
    public var labels: Tensor
    /// Every image of every row in row order, `[N, 3, H, W]`; nil when no row has an image.
    public var pixelValues: Tensor?
    public var recordCount: Int
    /// The sequence kinds the rows hold, in row-block order.
    public var kinds: [SequenceKind]

    public init(inputIds: Tensor, attentionMask: Tensor, labels: Tensor, pixelValues: Tensor?, recordCount: Int,
                kinds: [SequenceKind] = SequenceKind.allCases) {
        self.inputIds = inputIds
        self.attentionMask = attentionMask
        self.labels = labels
        self.pixelValues = pixelValues
        self.recordCount = recordCount
        self.kinds = kinds
    }
}

/// Builds `SixSequenceBatch`es: collates records, expands image placeholders after truncation
/// (SVCO-SPEC §2) and preprocesses each image once per batch (cc and cr share the chosen image;
/// nothing is kept between batches, so memory does not grow with the dataset).
public final class BatchBuilder {
    public let collator: SixSequenceCollator
    let processor: ImageProcessor
    let imageToken: Int
    let featureCount: Int
    let padId: Int
    /// Bounded (least recently used out): 256 MiB ≈ 190 CLIP-336 or 140 SigLIP-384 images.
    let pixelCache = PixelCache(byteLimit: 256 << 20)

    public init(collator: SixSequenceCollator, processor: ImageProcessor, config: any VisionLanguageConfig, padId: Int) {
        self.collator = collator
        self.processor = processor
        imageToken = config.imageTokenIndex
        featureCount = config.imageFeatureCount
        self.padId = padId
    }

    /// Pixel values `[1, 3, H, W]` of one image file.
    public func pixels(_ path: String) throws -> Tensor {
        if let cached = pixelCache.get(path) { return cached }
        let t = Tensor(pixels: try processor.preprocess(file: path))
        pixelCache.put(path, t)
        return t
    }

    /// The chosen sequences (cc) of `records` with each chosen image replaced by a random crop keeping
    /// at most `maxAreaFraction` of it (mDPO's corrupted image); `seed` makes the crops reproducible.
    public func buildCorruptedChosen(_ records: [MVCRecord], seed: UInt64, maxAreaFraction: Double = 0.2) throws -> SixSequenceBatch {
        var rng = SplitMix64(seed: seed)
        var rows: [(ids: [Int], labels: [Int])] = []
        var images: [Tensor] = []
        for record in records {
            let s = try collator.sequence(record, .cc)
            rows.append(ImageTokens.expand(ids: s.ids, labels: s.labels, imageToken: imageToken, featureCount: featureCount))
            for path in s.images {
                let cropped = ImageTransforms.randomCrop(try ImageDecoder.decode(file: path), maxAreaFraction: maxAreaFraction, using: &rng)
                images.append(Tensor(pixels: processor.preprocess(cropped)))
            }
        }
        let padded = ImageTokens.rightPad(rows, padId: padId)
        return SixSequenceBatch(inputIds: padded.ids, attentionMask: padded.mask, labels: padded.labels,
                                pixelValues: images.isEmpty ? nil : Tensor.cat(images, dim: 0), recordCount: records.count,
                                kinds: [.cc])
    }

    /// The rows of `kinds` (default: all six) for `records`, kind-major. Only the listed sequences
    /// are tokenised, preprocessed and padded, so a loss that reads two kinds costs a third of the
    /// forward passes (the padded width is that of the rows built).
    public func build(_ records: [MVCRecord], kinds: [SequenceKind] = SequenceKind.allCases) throws -> SixSequenceBatch {
        var rows: [(ids: [Int], labels: [Int])] = []
        var images: [Tensor] = []
        var cache: [String: Tensor] = [:]
        for kind in kinds {
            for record in records {
                let s = try collator.sequence(record, kind)
                rows.append(ImageTokens.expand(ids: s.ids, labels: s.labels, imageToken: imageToken, featureCount: featureCount))
                for path in s.images {
                    if cache[path] == nil { cache[path] = try pixels(path) }
                    images += cache[path].map { [$0] } ?? []
                }
            }
        }
        let padded = ImageTokens.rightPad(rows, padId: padId)
        return SixSequenceBatch(inputIds: padded.ids, attentionMask: padded.mask, labels: padded.labels,
                                pixelValues: images.isEmpty ? nil : Tensor.cat(images, dim: 0), recordCount: records.count,
                                kinds: kinds)
    }
}

extension VisionLanguageModel {
    /// Per-sequence log-probs `[B]` of any batch's rows.
    public func rowLogProbs(_ batch: SixSequenceBatch) throws -> Tensor {
        let dev = device
        return try sequenceLogProbs(inputIds: batch.inputIds.to(device: dev), attentionMask: batch.attentionMask.to(device: dev),
                                    pixelValues: batch.pixelValues?.to(device: dev), labels: batch.labels.to(device: dev))
    }

    /// Per-sequence log-probs of the sequences of `batch` (kinds it does not hold are NaN).
    public func sixSequenceLogProbs(_ batch: SixSequenceBatch) throws -> SixSequenceLogProbs {
        let dev = device
        let labels = batch.labels.to(device: dev)
        let logps = try sequenceLogProbs(inputIds: batch.inputIds.to(device: dev), attentionMask: batch.attentionMask.to(device: dev),
                                         pixelValues: batch.pixelValues?.to(device: dev), labels: labels)
        let counts = labels.narrow(1, start: 1, length: labels.size(1) - 1).ne(-100).sum(dim: 1)
        return SixSequenceLogProbs(stacked: logps, kinds: batch.kinds, tokenCounts: counts)
    }
}
