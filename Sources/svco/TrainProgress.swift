import Training

/// One line per step with loss, rate and ETA; evaluation lines as they come. (stdout is line-buffered
/// by `SVCO.main`, so the lines arrive as they are printed also when redirected.)
final class ProgressPrinter {
    var recentSeconds: [Double] = []
    /// Set when the run had already reached its last step (a resumed finished run).
    private(set) var finishedBefore = false

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
