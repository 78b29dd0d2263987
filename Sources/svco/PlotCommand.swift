import ArgumentParser
import Images
import Training

/// `svco plot OUTPUT_DIR`: loss and reward-accuracy curves from metrics.jsonl as PNG files.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw the loss and reward-accuracy curves of a training run (OUTPUT_DIR/metrics.jsonl) as PNG.")

    @Argument(help: "A `svco train` output folder.") var outputDir: String

    static let palette: [Canvas.Colour] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207)]

    func run() throws {
        let path = outputDir + "/metrics.jsonl"
        let lines: [[String: Double]]
        do {
            lines = try MetricsLog.read(path: path)
        } catch {
            throw CLIError("\(path): cannot read the metrics (\(error))")
        }
        guard !lines.isEmpty else { throw CLIError("\(path): no logged steps yet") }
        func series(_ key: String, name: String, colour: Canvas.Colour, markers: Bool = false) -> LineChart.Series? {
            let points = lines.compactMap { line -> (x: Double, y: Double)? in
                guard let step = line["step"], let value = line[key] else { return nil }
                return (step, value)
            }
            return points.isEmpty ? nil : LineChart.Series(name: name, points: points, colour: colour, markersOnly: markers)
        }
        let loss = [series("loss", name: "train loss", colour: Self.palette[0]),
                    series("eval_loss", name: "eval loss", colour: Self.palette[1], markers: true)].compactMap { $0 }
        let accuracyKeys = Set(lines.flatMap(\.keys)).filter { $0.hasPrefix("train_") && ($0.contains("reward_acc/") || $0.hasSuffix("rewards/accuracies")) }.sorted()
        var accuracy: [LineChart.Series] = []
        for (i, key) in accuracyKeys.enumerated() {
            let colour = Self.palette[i % Self.palette.count]
            let name = key.split(separator: "/").last.map(String.init) ?? key
            if let s = series(key, name: "train " + name, colour: colour) { accuracy.append(s) }
            if let s = series("eval_" + key.dropFirst("train_".count), name: "eval " + name, colour: colour, markers: true) { accuracy.append(s) }
        }
        let lossFile = outputDir + "/loss.png", accuracyFile = outputDir + "/reward_accuracy.png"
        try PNGWriter.write(LineChart(title: "Loss", xLabel: "step", series: loss).render(), to: lossFile)
        try PNGWriter.write(LineChart(title: "Reward accuracy", xLabel: "step", series: accuracy, yRange: 0...1).render(height: 640),
                            to: accuracyFile)
        print("wrote \(lossFile) and \(accuracyFile)")
    }
}
