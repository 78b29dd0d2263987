extension TrainingArguments {
    /// Checks between flags (each flag's own range is checked when it is read). Messages name the flags.
    public func validate() throws {
        func fail(_ message: String) -> TrainingError { .invalidArguments(message) }
        if fp16 && bf16 { throw fail("--fp16 and --bf16 exclude each other: choose one precision") }
        if let svco {
            if svco && loss != .svco { throw fail("--svco true and --loss \(loss.rawValue) contradict each other: choose one objective") }
            if !svco && loss == .svco { throw fail("--svco false: choose the objective with --loss (dpo, mdpo or sft); svco's is S-VCO") }
        }
        if loss == .svco && !betas.contains(where: { $0 > 0 }) {
            throw fail("every beta is <= 0: at least one S-VCO term must be on")
        }
        if (loss == .dpo || loss == .mdpo) && betaImgWinVsNoImg <= 0 {
            throw fail("--loss \(loss.rawValue) takes its β from --beta-img-win-vs-no-img-preference, which must be > 0 (it is \(betaImgWinVsNoImg.flagText))")
        }
        if precomputeRefLogProbs && (referenceFree || loss == .sft) {
            throw fail("--precompute-ref-log-probs: --loss \(loss.rawValue)\(referenceFree ? " with --reference-free" : "") uses no reference model")
        }
        if precomputeRefLogProbs && loss == .mdpo {
            throw fail("--precompute-ref-log-probs does not cover mDPO's corrupted-image sequences (their crops depend on the step); use it with svco or dpo")
        }
        if refLogProbsCache != nil && !precomputeRefLogProbs { throw fail("--ref-log-probs-cache needs --precompute-ref-log-probs") }
        if maxSteps <= 0 && numTrainEpochs <= 0 {
            throw fail("--num-train-epochs \(numTrainEpochs.flagText) with --max-steps \(maxSteps) trains nothing: "
                + "give a positive --num-train-epochs or --max-steps")
        }
    }
}
