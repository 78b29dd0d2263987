import Datasets
import Models
import Torch

extension SVCOTrainer {
    /// Policy and reference log-probs of a micro-batch of records, through packed forwards
    /// (`args.scoringLevers`): the reference comes from the frozen model, or from the precomputed
    /// table (`referenceTable`, `--precompute-ref-log-probs`), or is zero (reference-free).
    func recordLogProbs(_ records: [MVCRecord], corrupted: SixSequenceBatch? = nil) throws -> (SixSequenceLogProbs, SixSequenceLogProbs) {
        let batch = try builder.buildPacked(records, kinds: loss.sequenceKinds, levers: args.scoringLevers)
        lastPlan = batch.plan
        let scored = try PackedScoring.logProbs(batch, policy: policy, reference: reference)
        guard var pi = scored.policy else { throw TrainingError.invalidArguments("no policy log-probs were computed") }
        var ref: SixSequenceLogProbs
        if let fromModel = scored.reference {
            ref = fromModel
        } else if let referenceTable {
            ref = try referenceTable.logProbs(for: records, kinds: batch.kinds, device: policy.device)
        } else {
            ref = .zeros(like: pi)
        }
        if let corrupted {
            // mDPO's corrupted-image sequence has no partner to share a prefix with: scored unpacked.
            pi.corruptedChosen = try policy.rowLogProbs(corrupted)
            ref.corruptedChosen = try Autograd.noGrad {
                try reference.map { try $0.rowLogProbs(corrupted) } ?? Tensor.zeros([corrupted.recordCount], device: policy.device)
            }
        }
        return (pi, ref)
    }
}
