import Datasets
import Torch

/// DPO (Rafailov et al. 2023, "Direct Preference Optimization") as TRL's sigmoid DPO computes it, on
/// MVC pairs: the prompt shows the chosen image; the chosen response is preferred to the rejected one.
///
///     L = −log σ(β [(π_cc − π_cr) − (ref_cc − ref_cr)])     (mean over the batch)
///
/// Metrics use TRL's names and TRL's rewards, which include β: rewards/chosen = β(π_cc − ref_cc),
/// rewards/rejected = β(π_cr − ref_cr), rewards/accuracies, rewards/margins, logps/chosen, logps/rejected.
public struct DPOLoss: PreferenceLoss {
    public var beta: Double

    /// The chosen image with each response.
    public var sequenceKinds: [SequenceKind] { [.cc, .cr] }

    public init(beta: Double = 0.1) { self.beta = beta }

    public func callAsFunction(policy: SixSequenceLogProbs, reference: SixSequenceLogProbs, mode: LossMode) -> LossResult {
        let chosen = (policy.cc - reference.cc) * beta
        let rejected = (policy.cr - reference.cr) * beta
        let perRow = (chosen - rejected).logSigmoid().neg()
        func mean(_ t: Tensor) -> Tensor { t.detach().mean() }
        let metrics: [String: Tensor] = [
            "rewards/chosen": mean(chosen),
            "rewards/rejected": mean(rejected),
            "rewards/accuracies": mean(chosen.gt(rejected).to(.float64)),
            "rewards/margins": mean(chosen - rejected),
            "logps/chosen": mean(policy.cc),
            "logps/rejected": mean(policy.cr),
        ]
        return LossResult(loss: perRow.mean(), metrics: metrics)
    }
}

