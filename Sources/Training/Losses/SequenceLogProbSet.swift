import Torch

/// Per-sequence log-probabilities (`[B]` each) of the six sequences S-VCO builds per record
/// (SVCO-SPEC §2): first letter the image (c chosen, r rejected, n none), second the response.
public struct SixSequenceLogProbs {
    public var cc: Tensor
    public var rc: Tensor
    public var cr: Tensor
    public var rr: Tensor
    public var nc: Tensor
    public var nr: Tensor
    /// Scored tokens per sequence `[6B]` in the stacked order (set when computed from a batch;
    /// token-averaged losses such as SFT need it).
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

    /// Splits one `[6B]` tensor stacked in the order cc, rc, cr, rr, nc, nr.
    public init(stacked: Tensor, tokenCounts: Tensor? = nil) {
        let parts = stacked.chunk(6, dim: 0)
        self.init(cc: parts[0], rc: parts[1], cr: parts[2], rr: parts[3], nc: parts[4], nr: parts[5])
        self.tokenCounts = tokenCounts
    }

    /// All zeros, shaped like `other` (the reference of `reference_free` mode).
    public static func zeros(like other: SixSequenceLogProbs) -> SixSequenceLogProbs {
        let z = Tensor.zeros(other.cc.shape, dtype: other.cc.dtype, device: other.cc.device)
        return SixSequenceLogProbs(cc: z, rc: z, cr: z, rr: z, nc: z, nr: z)
    }
}

/// A loss value and the metrics logged with it (means over the batch, names without the
/// `train_`/`eval_` prefix).
public struct LossResult {
    public var loss: Tensor
    public var metrics: [String: Double]
}

/// Whether a loss is computed for an optimiser step or for evaluation.
public enum LossMode: Sendable { case train, eval }

/// A preference objective over per-sequence log-probabilities of a policy and a frozen reference.
public protocol PreferenceLoss {
    func callAsFunction(policy: SixSequenceLogProbs, reference: SixSequenceLogProbs, mode: LossMode) -> LossResult
    /// Whether the loss needs `corruptedChosen` (the trainer then runs that extra sequence).
    var usesCorruptedImages: Bool { get }
}

extension PreferenceLoss {
    public var usesCorruptedImages: Bool { false }
}
