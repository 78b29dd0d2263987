import Datasets
import Torch

/// Per-sequence log-probabilities (`[B]` each) of the six sequences S-VCO builds per record
/// (SVCO-SPEC §2): first letter the image (c chosen, r rejected, n none), second the response.
/// A loss that needs only some of them (`PreferenceLoss.sequenceKinds`) gets only those computed;
/// the others hold NaN, so a loss reading a kind it did not declare fails loudly (non-finite loss)
/// instead of training on a made-up value.
public struct SixSequenceLogProbs {
    public var cc: Tensor
    public var rc: Tensor
    public var cr: Tensor
    public var rr: Tensor
    public var nc: Tensor
    public var nr: Tensor
    /// The kinds that were computed, in stacked order (all six unless built for a loss that needs fewer).
    public var kinds: [SequenceKind] = SequenceKind.allCases
    /// Scored tokens per sequence `[kinds.count · B]` in the stacked order (set when computed from a
    /// batch; token-averaged losses such as SFT need it).
    public var tokenCounts: Tensor?
    /// `[B]` log-probs of the chosen response under a corrupted copy of the chosen image (mDPO's
    /// image-conditional term); set only for losses whose `usesCorruptedImages` is true.
    public var corruptedChosen: Tensor?

    public init(cc: Tensor, rc: Tensor, cr: Tensor, rr: Tensor, nc: Tensor, nr: Tensor) {
        self.cc = cc
        self.rc = rc
        self.cr = cr
        self.rr = rr
        self.nc = nc
        self.nr = nr
    }

    /// The six in the collator's order, with the names the metrics use.
    public var named: [(key: String, metric: String, value: Tensor)] {
        [("cc", "img_chosen_res_chosen", cc), ("rc", "img_rejected_res_chosen", rc),
         ("cr", "img_chosen_res_rejected", cr), ("rr", "img_rejected_res_rejected", rr),
         ("nc", "no_img_res_chosen", nc), ("nr", "no_img_res_rejected", nr)]
    }

    /// Splits one `[kinds.count · B]` tensor stacked kind-major in the order of `kinds` (by default
    /// all six: cc, rc, cr, rr, nc, nr); kinds not listed are NaN.
    public init(stacked: Tensor, kinds: [SequenceKind] = SequenceKind.allCases, tokenCounts: Tensor? = nil) {
        let b = kinds.isEmpty ? 0 : stacked.size(0) / kinds.count
        var parts: [SequenceKind: Tensor] = [:]
        for (i, kind) in kinds.enumerated() { parts[kind] = stacked.narrow(0, start: i * b, length: b) }
        let missing = Tensor.full([b], Scalar(Double.nan), dtype: stacked.dtype, device: stacked.device)
        self.init(cc: parts[.cc] ?? missing, rc: parts[.rc] ?? missing, cr: parts[.cr] ?? missing,
                  rr: parts[.rr] ?? missing, nc: parts[.nc] ?? missing, nr: parts[.nr] ?? missing)
        self.kinds = kinds
        self.tokenCounts = tokenCounts
    }

    /// Scored tokens `[B]` of one kind's sequences, when counts were recorded and the kind computed.
    public func tokenCounts(of kind: SequenceKind) -> Tensor? {
        guard let counts = tokenCounts, let i = kinds.firstIndex(of: kind), !kinds.isEmpty else { return nil }
        let b = counts.size(0) / kinds.count
        return counts.narrow(0, start: i * b, length: b)
    }

    /// All zeros, shaped like `other` (the reference of `reference_free` mode).
    public static func zeros(like other: SixSequenceLogProbs) -> SixSequenceLogProbs {
        let z = Tensor.zeros(other.cc.shape, dtype: other.cc.dtype, device: other.cc.device)
        var out = SixSequenceLogProbs(cc: z, rc: z, cr: z, rr: z, nc: z, nr: z)
        out.kinds = other.kinds
        return out
    }
}

/// A loss value and the metrics logged with it (means over the batch, names without the
/// `train_`/`eval_` prefix). The metrics stay on the device as detached 0-dim tensors, so a training
/// step reads nothing back until the trainer reads a whole window of them in one transfer.
public struct LossResult {
    public var loss: Tensor
    public var metricTensors: [String: Tensor]

    public init(loss: Tensor, metrics: [String: Tensor]) {
        self.loss = loss
        metricTensors = metrics
    }

    /// The metrics as numbers (one device read for all of them).
    public var metrics: [String: Double] { StepReadout.read(losses: [], metrics: [metricTensors]).metrics.first ?? [:] }
}

/// Whether a loss is computed for an optimiser step or for evaluation.
public enum LossMode: Sendable { case train, eval }

/// A preference objective over per-sequence log-probabilities of a policy and a frozen reference.
public protocol PreferenceLoss {
    func callAsFunction(policy: SixSequenceLogProbs, reference: SixSequenceLogProbs, mode: LossMode) -> LossResult
    /// Whether the loss needs `corruptedChosen` (the trainer then runs that extra sequence).
    var usesCorruptedImages: Bool { get }
    /// The sequence kinds the loss and its metrics read, in the collator's order; the trainer builds
    /// and scores only these (all six by default).
    var sequenceKinds: [SequenceKind] { get }
    /// Whether the loss reads the frozen reference model's log-probs (so one must be loaded).
    var usesReference: Bool { get }
}

extension PreferenceLoss {
    public var usesCorruptedImages: Bool { false }
    public var usesReference: Bool { true }
    public var sequenceKinds: [SequenceKind] { SequenceKind.allCases }
}
