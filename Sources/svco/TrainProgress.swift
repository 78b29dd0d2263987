import Models
import Training

/// One line per step with loss, rate and ETA; evaluation lines as they come. (stdout is line-buffered
/// by `SVCO.main`, so the lines arrive as they are printed also when redirected.)
final class ProgressPrinter {
    var recentSeconds: [Double] = []
    /// Set when the run had already reached its last step (a resumed finished run).
    private(set) var finishedBefore = false
    /// Set once the scoring work of a step has been printed.
    var describedWork = false

    /// One line naming the packed forwards of a step's last micro-batch, per model (the frozen
    /// reference, when it runs, repeats them without gradients), e.g.
    /// `scoring work of step 1 (last micro-batch, per model): forward 2x606 (1152 image positions), forward 1x27 (0 image positions); 36 scored tokens; 2 distinct images`.
    static func describe(_ plan: PackedBatchPlan, step: Int) -> String {
        let forwards = plan.forwards.map { "forward \($0.rows)x\($0.width) (\($0.imagePositions.count) image positions)" }
        let scored = plan.forwards.reduce(0) { $0 + $1.predictors.count }
        return "scoring work of step \(step) (last micro-batch, per model): " + forwards.joined(separator: ", ")
            + "; \(scored) scored tokens; \(plan.images.count) distinct images"
    }

    func handle(_ event: TrainerEvent) {
        switch event {
        case .started(let total, let trainable, let frozen):
            print("training for \(total) optimiser steps (\(trainable) trainable parameter tensors, \(frozen) frozen)")
        case .alreadyFinished(let step):
            finishedBefore = true
            print("the run finished at step \(step) already: nothing to train")
        case .step(let step, let total, let loss, let seconds):
            recentSeconds.append(seconds)
            if recentSeconds.count > 10 { recentSeconds.removeFirst() }
            let mean = recentSeconds.reduce(0, +) / Double(recentSeconds.count)
            let eta = Int(mean * Double(total - step))
            print("step \(step)/\(total)  loss \(format(loss, 4))  \(format(mean, 2)) s/step  ETA \(eta / 60)m\(eta % 60)s")
        case .logged:
            break
        case .evaluated(let metrics):
            // S-VCO's four reward accuracies, or DPO's single one; SFT has none.
            let keys = SVCOLoss.terms.map { "eval_" + SVCOLoss.accuracyKey($0.name) } + ["eval_rewards/accuracies"]
            let acc = keys.compactMap { metrics[$0] }.map { format($0, 2) }.joined(separator: " ")
            print("  eval loss \(format(metrics["eval_loss"] ?? .nan, 4))" + (acc.isEmpty ? "" : "  reward accuracies \(acc)"))
        case .checkpointSaved(let path):
            print("  saved \(path)")
        }
    }
}

func format(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "nan" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (x * scale).rounded() / scale
    var s = "\(r)"
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    }
    return s
}
