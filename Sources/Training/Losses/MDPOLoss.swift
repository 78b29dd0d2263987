import Datasets
import Torch

/// mDPO (Wang et al. 2024, "mDPO: Conditional Preference Optimization for Multimodal Large Language
/// Models") on MVC pairs, with the chosen image as the prompt image:
///
///     L = −log σ(β [(π_cc − π_cr) − (ref_cc − ref_cr)])            response preference (DPO)
///       − log σ(β [(π_cc − π_c̃c) − (ref_cc − ref_c̃c)])            image-conditional preference
///       − log σ(β (π_cc − ref_cc))                                   anchor
///
/// where c̃c is the chosen response under a corrupted copy of the chosen image (a random crop
/// keeping at most 20% of it), carried in `SixSequenceLogProbs.corruptedChosen`.
public struct MDPOLoss: PreferenceLoss {
    public var beta: Double
    public var usesCorruptedImages: Bool { true }
    /// The chosen image with each response; the corrupted-image sequence comes on top.
    public var sequenceKinds: [SequenceKind] { [.cc, .cr] }

    public init(beta: Double = 0.1) { self.beta = beta }

    public func callAsFunction(policy: SixSequenceLogProbs, reference: SixSequenceLogProbs, mode: LossMode) -> LossResult {
        precondition(policy.corruptedChosen != nil && reference.corruptedChosen != nil,
                     "MDPOLoss needs the corrupted-image log-probs (the trainer computes them when usesCorruptedImages)")
        let piCorrupt = policy.corruptedChosen ?? policy.cc, refCorrupt = reference.corruptedChosen ?? reference.cc
        let chosen = (policy.cc - reference.cc) * beta
        let rejected = (policy.cr - reference.cr) * beta
        let imageless = (piCorrupt - refCorrupt) * beta
        let response = (chosen - rejected).logSigmoid().neg()
        let conditional = (chosen - imageless).logSigmoid().neg()
        let anchor = chosen.logSigmoid().neg()
        func mean(_ t: Tensor) -> Tensor { t.detach().mean() }
        let metrics: [String: Tensor] = [
            "losses/response_loss": mean(response), "losses/image_conditional_loss": mean(conditional),
            "losses/anchor_loss": mean(anchor),
            "rewards/chosen": mean(chosen), "rewards/rejected": mean(rejected), "rewards/imageless_chosen": mean(imageless),
            "rewards/accuracies": mean(chosen.gt(rejected).to(.float64)),
            "rewards/imageless_accuracies": mean(chosen.gt(imageless).to(.float64)),
            "rewards/margins": mean(chosen - rejected), "rewards/imageless_margins": mean(chosen - imageless),
            "logps/chosen": mean(policy.cc), "logps/rejected": mean(policy.cr), "logps/imageless_chosen": mean(piCorrupt),
        ]
        return LossResult(loss: (response + conditional + anchor).mean(), metrics: metrics)
    }
}
