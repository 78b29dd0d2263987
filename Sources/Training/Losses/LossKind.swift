/// The objectives `svco train --loss` offers, by name. `make(_:)` is the one place a name becomes a
/// loss, so a new objective is one case here (the compiler finds the switch).
public enum LossKind: String, CaseIterable, Sendable {
    case svco, dpo, mdpo, sft

    /// The loss with the β (or βs) of `args`: S-VCO's four, DPO's and mDPO's from the first
    /// (`--beta-img-win-vs-no-img`), none for SFT.
    public func make(_ args: TrainingArguments) -> any PreferenceLoss {
        switch self {
        case .svco: SVCOLoss(betas: args.betas)
        case .dpo: DPOLoss(beta: args.betaImgWinVsNoImg)
        case .mdpo: MDPOLoss(beta: args.betaImgWinVsNoImg)
        case .sft: SFTLoss()
        }
    }
}
