import Torch

/// What fills the image positions of a packed plan, one entry per `PackedBatchPlan.images` key.
public enum PackedImages {
    /// Pixel values `[N, C, H, W]`: this model's tower encodes them.
    case pixels(Tensor)
    /// The selected vision-tower features `[N, F, visionWidth]` (before the projector), computed once by
    /// a frozen tower shared with another model (``VisionLanguageModel/visionFeatures(_:)``); this model
    /// applies its own projector.
    case visionFeatures(Tensor)
}

extension VisionLanguageModel {
    /// Per-sequence log-probabilities `[plan.sequenceCount]` (float32) of a packed plan: one forward per
    /// `plan.forwards` entry, the output layer only at the scored positions, each log-prob added to its
    /// sequence (a shared scored position counts for every sequence that scores it, and its gradient
    /// accumulates from each). Equal to `sequenceLogProbs` over the unpacked sequences up to rounding.
    /// Everything is built from host arrays: nothing here reads a tensor back.
    public func packedLogProbs(_ plan: PackedBatchPlan, images: PackedImages?) throws -> Tensor {
        let dev = device
        var projected: Tensor?
        if !plan.images.isEmpty {
            let given: Int
            switch images {
            case .pixels(let p): given = p.size(0)
            case .visionFeatures(let f): given = f.size(0)
            case nil: given = 0
            }
            guard given == plan.images.count else {
                throw ModelInputError.imageCountMismatch(row: nil, imageTokens: plan.images.count, images: given)
            }
            switch images {
            case .pixels(let p): projected = projectVisionFeatures(visionFeatures(p))
            case .visionFeatures(let f): projected = projectVisionFeatures(f.to(device: dev))
            case nil: break
            }
        }
        let hiddenSize = config.textConfig.hiddenSize
        var scoredRows: [Tensor] = []
        var targets: [Int] = []
        var owners: [Int] = []
        for f in plan.forwards where f.rows > 0 && f.width > 0 {
            let ids = Tensor(f.ids, shape: [f.rows, f.width]).to(device: dev)
            var embeds = languageModel.embedTokens(ids)  // [R, T, H]
            if !f.imagePositions.isEmpty {
                guard let projected, f.imageSlots.count * config.imageFeatureCount == f.imagePositions.count else {
                    throw ModelInputError.imageCountMismatch(row: nil, imageTokens: f.imagePositions.count / Swift.max(1, config.imageFeatureCount),
                                                             images: f.imageSlots.count)
                }
                let slots = Tensor(f.imageSlots, shape: [f.imageSlots.count]).to(device: dev)
                let features = projected.indexSelect(0, slots).reshape(-1, hiddenSize).to(embeds.dtype)  // [slots·F, H]
                let at = Tensor(f.imagePositions, shape: [f.imagePositions.count]).to(device: dev)
                embeds = embeds.reshape(-1, hiddenSize).indexPut(at, features).view(f.rows, f.width, hiddenSize)
            }
            let positions = Tensor(f.positions, shape: [f.rows, f.width]).to(device: dev)
            let mask = f.segments.map { AttentionMask.packed(segments: Tensor($0, shape: [f.rows, f.width]).to(device: dev)) }
            let hidden = languageModel.hiddenStates(inputsEmbeds: embeds, positions: positions, mask: mask)
            guard !f.predictors.isEmpty else { continue }
            let predictors = Tensor(f.predictors, shape: [f.predictors.count]).to(device: dev)
            scoredRows.append(hidden.reshape(-1, hiddenSize).indexSelect(0, predictors))  // [K, H]
            targets += f.targets
            owners += f.owners
        }
        let out = Tensor.zeros([plan.sequenceCount], dtype: .float32, device: dev)
        guard !scoredRows.isEmpty else { return out }
        let logits = languageModel.logits(scoredRows.count == 1 ? scoredRows[0] : Tensor.cat(scoredRows, dim: 0)).to(.float32)  // [K, V]
        let target = Tensor(targets, shape: [targets.count]).to(device: dev)
        let logp = Functional.crossEntropy(logits, target: target, reduction: .none).neg()  // [K]
        return out.indexPut(Tensor(owners, shape: [owners.count]).to(device: dev), logp, accumulate: true)
    }
}

extension AttentionMask {
    /// Boolean mask `[R, 1, T, T]` (true = may attend) for packed rows with segment codes
    /// `PackedForward.prefix/answerA/answerB/padding` `[R, T]`: causal within the row, the prefix seen by
    /// everyone, an answer seen only by itself, padding attending to itself alone (no row is fully
    /// masked on any kernel; padding outputs are never read).
    public static func packed(segments: Tensor) -> Tensor {
        let (r, t) = (segments.size(0), segments.size(1))
        let device = segments.device
        let index = Tensor.arange(0, Scalar(t), device: device)
        let keys = index.view(1, 1, t), queries = index.view(1, t, 1)
        let segQ = segments.view(r, t, 1), segK = segments.view(r, 1, t)
        let visible = segK.eq(Scalar(Int(PackedForward.prefix))).logicalOr(segK.eq(segQ))  // [R, T, T]
        let real = segQ.ne(Scalar(Int(PackedForward.padding)))
        let allowed = keys.le(queries).logicalAnd(visible).logicalAnd(real).logicalOr(keys.eq(queries))
        return allowed.unsqueeze(1)
    }
}
