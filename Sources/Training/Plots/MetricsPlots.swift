import Images

/// The charts `svco plot` draws from metrics.jsonl: the loss, and the reward accuracies of each
/// term (S-VCO's four; DPO's and mDPO's), training curves as lines and evaluations as joined markers
/// in the same colour, one colour per term.
public enum MetricsPlots {
    /// Distinct colours (matplotlib's tab10 order).
    public static let palette: [Canvas.Colour] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189),
                                                  (255, 127, 14), (23, 190, 207), (140, 86, 75), (227, 119, 194)]

    public static func loss(_ lines: [[String: Double]]) -> LineChart {
        let series = [series(lines, "loss", label: "loss", colour: palette[0], style: .line),
                      series(lines, "eval_loss", label: "loss", colour: palette[0], style: .markers)].compactMap { $0 }
        return LineChart(title: "Loss", xLabel: "step", series: series, styleNames: ("train", "eval"))
    }

    public static func rewardAccuracy(_ lines: [[String: Double]]) -> LineChart {
        // The keys without their train_/eval_ prefix, in a stable order.
        let keys = Set(lines.flatMap(\.keys).compactMap { key -> String? in
            let bare = key.hasPrefix("train_") ? key.dropFirst("train_".count) : key.hasPrefix("eval_") ? key.dropFirst("eval_".count) : nil
            guard let bare, bare.hasPrefix("reward_acc/") || (bare.hasPrefix("rewards/") && bare.hasSuffix("accuracies")) else { return nil }
            return String(bare)
        }).sorted { a, b in
            // S-VCO's terms in the paper's order, then anything else by name.
            let order = SVCOLoss.terms.map { SVCOLoss.accuracyKey($0.name) }
            return (order.firstIndex(of: a) ?? order.count, a) < (order.firstIndex(of: b) ?? order.count, b)
        }
        var out: [LineChart.Series] = []
        for (i, key) in keys.enumerated() {
            let colour = palette[i % palette.count]
            let label = termLabel(key)
            out += [series(lines, "train_" + key, label: label, colour: colour, style: .line),
                    series(lines, "eval_" + key, label: label, colour: colour, style: .markers)].compactMap { $0 }
        }
        return LineChart(title: "Reward accuracy", xLabel: "step", series: out, yRange: 0...1, styleNames: ("train", "eval"))
    }

    /// `reward_acc/img_win_vs_no_img_reward_accuracies` → `img_win_vs_no_img`; `rewards/accuracies` → `accuracies`.
    static func termLabel(_ key: String) -> String {
        let last = key.split(separator: "/").last.map(String.init) ?? key
        return last.hasSuffix("_reward_accuracies") ? String(last.dropLast("_reward_accuracies".count)) : last
    }

    static func series(_ lines: [[String: Double]], _ key: String, label: String, colour: Canvas.Colour,
                       style: LineChart.Style) -> LineChart.Series? {
        let points = lines.compactMap { line -> (x: Double, y: Double)? in
            guard let step = line["step"], let value = line[key] else { return nil }
            return (step, value)
        }
        return points.isEmpty ? nil : LineChart.Series(label: label, points: points, colour: colour, style: style)
    }
}
