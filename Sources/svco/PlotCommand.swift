import ArgumentParser
import Images
import Training

/// `svco plot OUTPUT_DIR`: loss and reward-accuracy curves from metrics.jsonl as PNG files.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw the loss and reward-accuracy curves of a training run (OUTPUT_DIR/metrics.jsonl) as PNG.")

    @Argument(help: "A `svco train` output folder.") var outputDir: String

    func run() throws {
        let path = outputDir + "/metrics.jsonl"
        let lines = try MetricsLog.read(path: path)
        guard !lines.isEmpty else { throw CLIError("\(path): no logged steps yet") }
        let lossFile = outputDir + "/loss.png", accuracyFile = outputDir + "/reward_accuracy.png"
        try PNGWriter.write(MetricsPlots.loss(lines).render(), to: lossFile)
        try PNGWriter.write(MetricsPlots.rewardAccuracy(lines).render(height: 640), to: accuracyFile)
        print("wrote \(lossFile) and \(accuracyFile)")
    }
}
