import Datasets
import Torch

/// Supervised finetuning on the matched pairs: the token-averaged negative log-likelihood of the
/// chosen response with the chosen image (cc) and the rejected response with the rejected image
/// (rr) — each text with the image it is true for — as TRL's SFT averages over all label tokens of
/// the batch. The reference model is not used.
///
///     L = −(Σ π_cc + Σ π_rr) / (tokens_cc + tokens_rr)
public struct SFTLoss: PreferenceLoss {
    /// Each response with the image it is true for.
    public var sequenceKinds: [SequenceKind] { [.cc, .rr] }
    public var usesReference: Bool { false }

    public init() {}

    public func callAsFunction(policy: SixSequenceLogProbs, reference: SixSequenceLogProbs, mode: LossMode) -> LossResult {
        let b = policy.cc.size(0)
        let tokens: Tensor
        if let cc = policy.tokenCounts(of: .cc), let rr = policy.tokenCounts(of: .rr) {
            tokens = (cc.sum() + rr.sum()).to(policy.cc.dtype)
        } else {
            tokens = Tensor.full([], Scalar(Double(2 * b)), dtype: policy.cc.dtype, device: policy.cc.device)
        }
        let loss = (policy.cc.sum() + policy.rr.sum()).neg() / tokens.clamp(min: 1)
        return LossResult(loss: loss, metrics: ["sft/nll": loss.detach(), "logps/policy_logps_img_chosen_res_chosen": policy.cc.detach().mean(),
                                                "logps/policy_logps_img_rejected_res_rejected": policy.rr.detach().mean()])
    }
}
