import Torch

/// S-VCO, Symmetrical Visual Contrastive Optimization (arXiv 2502.13928, SVCO-SPEC §3).
///
/// With Δ(a, b) = (π_a − π_b) − (ref_a − ref_b) over per-sequence log-probs:
///
///     L1 = −log σ(β1 Δ(cc, nc))   chosen text: its own image beats no image
///     L2 = −log σ(β2 Δ(nc, rc))   chosen text: no image beats the wrong image
///     L3 = −log σ(β3 Δ(rr, nr))   rejected text: its own image beats no image
///     L4 = −log σ(β4 Δ(nr, cr))   rejected text: no image beats the wrong image
///     loss = mean over the batch of L1 + L2 + L3 + L4
///
/// In training a term whose β ≤ 0 is off (contributes 0, no gradient); in evaluation every term
/// is reported, an off term with β = 0.1. Reference-free mode is the caller's: pass zeros.
public struct SVCOLoss: PreferenceLoss {
    /// The four terms: metric name, the two sequences compared.
    public static var terms: [(name: String, winner: KeyPath<SixSequenceLogProbs, Tensor>, loser: KeyPath<SixSequenceLogProbs, Tensor>)] { [
        ("img_win_vs_no_img", \.cc, \.nc),
        ("no_img_vs_img_lose", \.nc, \.rc),
        ("img_lose_vs_no_img", \.rr, \.nr),
        ("no_img_vs_img_win", \.nr, \.cr),
    ] }

    /// The reference trainer's metric names (s-vco `trainer.py`, `get_batch_metrics`), without the
    /// `train_`/`eval_` prefix the trainer adds.
    public static func lossKey(_ term: String) -> String { "losses/\(term)_loss" }
    public static func accuracyKey(_ term: String) -> String { "reward_acc/\(term)_reward_accuracies" }
    public static func marginKey(_ term: String) -> String { "reward_margin/\(term)_reward_margins" }
    public static func distanceKey(_ term: String) -> String { "pi_logratios/pi_logratios_\(term)_distance" }

    /// β1…β4 in the order of `terms`.
    public var betas: [Double]
    /// The β an off term is evaluated with.
    public static let evalFallbackBeta = 0.1

    public init(betas: [Double] = [0.1, 0.1, 0.1, 0.1]) {
        precondition(betas.count == 4, "S-VCO has four betas")
        self.betas = betas
    }

    public func callAsFunction(policy: SixSequenceLogProbs, reference: SixSequenceLogProbs, mode: LossMode) -> LossResult {
        var metrics: [String: Tensor] = [:]
        var total: Tensor?
        for (i, term) in Self.terms.enumerated() {
            let piDiff = policy[keyPath: term.winner] - policy[keyPath: term.loser]
            let refDiff = reference[keyPath: term.winner] - reference[keyPath: term.loser]
            let margin = piDiff - refDiff  // = reward_winner − reward_loser
            let on = betas[i] > 0
            let beta = on ? betas[i] : Self.evalFallbackBeta
            let perRow = (margin * beta).logSigmoid().neg()
            if on || mode == .eval {
                total = total.map { $0 + perRow } ?? perRow
            }
            let value = perRow.detach().mean()
            metrics[Self.lossKey(term.name)] = (on || mode == .eval) ? value : Tensor.zeros([], dtype: value.dtype, device: value.device)
            metrics[Self.accuracyKey(term.name)] = margin.detach().gt(0).to(.float64).mean()
            metrics[Self.marginKey(term.name)] = margin.detach().mean()
            metrics[Self.distanceKey(term.name)] = piDiff.detach().abs().mean()
        }
        for (p, r) in zip(policy.named, reference.named) {
            metrics["rewards/rewards_\(p.metric)"] = (p.value - r.value).detach().mean()
            metrics["logps/policy_logps_\(p.metric)"] = p.value.detach().mean()
        }
        let loss = total?.mean() ?? Tensor.zeros([], dtype: policy.cc.dtype, device: policy.cc.device)
        return LossResult(loss: loss, metrics: metrics)
    }
}
