import Foundation
import Testing
@testable import NN
@testable import Torch
@testable import Training

@Suite struct SVCOLossTests {
    // Two records. Policy and reference log-probs per sequence, chosen by hand.
    let policy = SixSequenceLogProbs(cc: Tensor([-10.0, -12]), rc: Tensor([-14.0, -11]), cr: Tensor([-15.0, -13]),
                                     rr: Tensor([-9.0, -16]), nc: Tensor([-12.0, -12.5]), nr: Tensor([-11.0, -14]))
    let reference = SixSequenceLogProbs(cc: Tensor([-11.0, -12]), rc: Tensor([-13.0, -12]), cr: Tensor([-14.0, -13]),
                                        rr: Tensor([-10.0, -15]), nc: Tensor([-12.0, -12]), nr: Tensor([-11.5, -14]))

    func softplus(_ x: Double) -> Double { log1p(exp(x)) }  // −log σ(−x)

    /// Margins Δ per term and record, by hand from the numbers above.
    var margins: [[Double]] {
        let d = { (pw: [Double], pl: [Double], rw: [Double], rl: [Double]) in (0..<2).map { (pw[$0] - pl[$0]) - (rw[$0] - rl[$0]) } }
        return [d([-10, -12], [-12, -12.5], [-11, -12], [-12, -12]),      // cc vs nc
                d([-12, -12.5], [-14, -11], [-12, -12], [-13, -12]),      // nc vs rc
                d([-9, -16], [-11, -14], [-10, -15], [-11.5, -14]),       // rr vs nr
                d([-11, -14], [-15, -13], [-11.5, -14], [-14, -13])]      // nr vs cr
    }

    @Test func trainingLossAndMetrics() {
        let betas = [0.1, 0.2, 0.0, 0.5]  // term 3 switched off
        let result = SVCOLoss(betas: betas)(policy: policy, reference: reference, mode: .train)
        var expected = 0.0
        for t in [0, 1, 3] { expected += (0..<2).map { softplus(-betas[t] * margins[t][$0]) }.reduce(0, +) / 2 }
        #expect(abs(result.loss.item().doubleValue - expected) < 1e-12)
        #expect(result.metrics["losses/img_lose_vs_no_img_loss"] == 0)
        #expect(abs((result.metrics["losses/img_win_vs_no_img_loss"] ?? 0) - (0..<2).map { softplus(-0.1 * margins[0][$0]) }.reduce(0, +) / 2) < 1e-12)
        for (t, name) in ["img_win_vs_no_img", "no_img_vs_img_lose", "img_lose_vs_no_img", "no_img_vs_img_win"].enumerated() {
            #expect(abs((result.metrics["reward_margin/\(name)_reward_margins"] ?? .nan) - margins[t].reduce(0, +) / 2) < 1e-12)
            #expect(result.metrics["reward_acc/\(name)_reward_accuracies"] == Double(margins[t].filter { $0 > 0 }.count) / 2)
        }
        // |π_cc − π_nc| averaged: |−10+12| = 2, |−12+12.5| = 0.5.
        #expect(result.metrics["pi_logratios/pi_logratios_img_win_vs_no_img_distance"] == 1.25)
        #expect(result.metrics["rewards/rewards_img_chosen_res_chosen"] == 0.5)  // (1 + 0) / 2
        #expect(result.metrics["logps/policy_logps_no_img_res_rejected"] == -12.5)
        #expect(result.metrics.count == 4 * 4 + 6 * 2)
    }

    @Test func evaluationReportsOffTermsWithBetaPointOne() {
        let result = SVCOLoss(betas: [0.1, 0.2, 0.0, -1])(policy: policy, reference: reference, mode: .eval)
        let effective = [0.1, 0.2, 0.1, 0.1]
        let expected = (0..<4).map { t in (0..<2).map { softplus(-effective[t] * margins[t][$0]) }.reduce(0, +) / 2 }.reduce(0, +)
        #expect(abs(result.loss.item().doubleValue - expected) < 1e-12)
        #expect((result.metrics["losses/no_img_vs_img_win_loss"] ?? 0) > 0)
    }

    @Test func offTermsGetNoGradient() {
        let cc = Tensor([-10.0, -12]).requiresGrad(true), rr = Tensor([-9.0, -16]).requiresGrad(true)
        let p = SixSequenceLogProbs(cc: cc, rc: policy.rc, cr: policy.cr, rr: rr, nc: policy.nc, nr: policy.nr)
        SVCOLoss(betas: [0.1, 0.1, 0, 0.1])(policy: p, reference: reference, mode: .train).loss.backward()
        #expect(rr.grad == nil)  // rr appears only in the switched-off term 3
        // d/dcc of mean softplus(−β Δ) = −β σ(−β Δ) / B.
        let expected = margins[0].map { -0.1 / (1 + exp(0.1 * $0)) / 2 }
        expectClose(cc.grad, expected)
    }

    @Test func referenceFreeIsZeroReference() {
        let free = SVCOLoss()(policy: policy, reference: .zeros(like: policy), mode: .train)
        let pd = [policy.cc - policy.nc, policy.nc - policy.rc, policy.rr - policy.nr, policy.nr - policy.cr]
        let expected = pd.map { d in (d * 0.1).logSigmoid().neg().mean().item().doubleValue }.reduce(0, +)
        #expect(abs(free.loss.item().doubleValue - expected) < 1e-12)
    }

    @Test func stackedSplitKeepsTheOrder() {
        let s = SixSequenceLogProbs(stacked: Tensor([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))
        #expect(s.cc.toArray(Double.self) == [1, 2] && s.rr.toArray(Double.self) == [7, 8] && s.nr.toArray(Double.self) == [11, 12])
    }
}

func expectClose(_ t: Tensor?, _ expected: [Double], tolerance: Double = 1e-12, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let t else {
        Issue.record("no tensor", sourceLocation: sourceLocation)
        return
    }
    let got: [Double] = t.toArray()
    #expect(got.count == expected.count, sourceLocation: sourceLocation)
    for (g, e) in zip(got, expected) { #expect(abs(g - e) <= tolerance * max(1, abs(e)), "\(g) vs \(e)", sourceLocation: sourceLocation) }
}

@Suite struct DPOLossTests {
    @Test func matchesTheClosedForm() {
        let policy = SixSequenceLogProbs(cc: Tensor([-10.0, -12]), rc: Tensor([0.0, 0]), cr: Tensor([-15.0, -11]),
                                         rr: Tensor([0.0, 0]), nc: Tensor([0.0, 0]), nr: Tensor([0.0, 0]))
        let reference = SixSequenceLogProbs(cc: Tensor([-11.0, -12]), rc: Tensor([0.0, 0]), cr: Tensor([-14.0, -12]),
                                            rr: Tensor([0.0, 0]), nc: Tensor([0.0, 0]), nr: Tensor([0.0, 0]))
        let result = DPOLoss(beta: 0.5)(policy: policy, reference: reference, mode: .train)
        // Margins: record 0: (−10+15) − (−11+14) = 2; record 1: (−12+11) − (−12+12) = −1.
        let expected = (log1p(exp(-0.5 * 2)) + log1p(exp(0.5 * 1))) / 2
        #expect(abs(result.loss.item().doubleValue - expected) < 1e-12)
        #expect(result.metrics["rewards/chosen"] == 0.25)  // 0.5 · (1 + 0) / 2
        #expect(result.metrics["rewards/rejected"] == 0)  // 0.5 · (−1 + 1) / 2
        #expect(result.metrics["rewards/accuracies"] == 0.5)
        #expect(result.metrics["rewards/margins"] == 0.25)
        #expect(result.metrics["logps/rejected"] == -13)
    }
}

@Suite struct SFTLossTests {
    @Test func averagesOverScoredTokensOfTheMatchedPairs() {
        var policy = SixSequenceLogProbs(stacked: Tensor([-6.0, -4, 0, 0, 0, 0, -3, -9, 0, 0, 0, 0]),
                                         tokenCounts: Tensor([3, 2, 9, 9, 9, 9, 1, 4, 9, 9, 9, 9]))
        let result = SFTLoss()(policy: policy, reference: .zeros(like: policy), mode: .train)
        // (6 + 4 + 3 + 9) / (3 + 2 + 1 + 4)
        #expect(abs(result.loss.item().doubleValue - 2.2) < 1e-12)
        policy.tokenCounts = nil  // without counts: per-sequence mean
        #expect(abs(SFTLoss()(policy: policy, reference: .zeros(like: policy), mode: .train).loss.item().doubleValue - 5.5) < 1e-12)
    }
}

@Suite struct MDPOLossTests {
    @Test func sumsResponseImageConditionalAndAnchorTerms() {
        var policy = SixSequenceLogProbs(cc: Tensor([-10.0]), rc: Tensor([0.0]), cr: Tensor([-12.0]), rr: Tensor([0.0]),
                                         nc: Tensor([0.0]), nr: Tensor([0.0]))
        var reference = SixSequenceLogProbs(cc: Tensor([-11.0]), rc: Tensor([0.0]), cr: Tensor([-11.0]), rr: Tensor([0.0]),
                                            nc: Tensor([0.0]), nr: Tensor([0.0]))
        policy.corruptedChosen = Tensor([-14.0])
        reference.corruptedChosen = Tensor([-13.0])
        let beta = 0.5
        let result = MDPOLoss(beta: beta)(policy: policy, reference: reference, mode: .train)
        // chosen reward 0.5·1 = 0.5, rejected 0.5·(−1) = −0.5, imageless 0.5·(−1) = −0.5.
        let softplus = { (x: Double) in log1p(exp(x)) }
        let expected = softplus(-(0.5 + 0.5)) + softplus(-(0.5 + 0.5)) + softplus(-0.5)
        #expect(abs(result.loss.item().doubleValue - expected) < 1e-12)
        #expect(result.metrics["rewards/imageless_accuracies"] == 1 && result.metrics["rewards/imageless_margins"] == 1)
        #expect(MDPOLoss().usesCorruptedImages && !SVCOLoss().usesCorruptedImages)
    }
}
