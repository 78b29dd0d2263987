import Foundation
import Testing
@testable import Images
@testable import Training

/// `svco plot`'s charts: round ticks, one colour per term shared by its train line and eval markers,
/// a legend without repeated colours, the axis title under the tick labels.
@Suite struct PlotTests {
    @Test func axesTickAtRoundValues() {
        let steps = Axis(low: 1, high: 30, integers: true, fixed: false)
        #expect(steps.low == 0 && steps.high == 30 && steps.ticks == [0, 5, 10, 15, 20, 25, 30])
        let few = Axis(low: 1, high: 3, integers: true, fixed: false)
        #expect(few.step == 1 && few.ticks == [1, 2, 3])
        let loss = Axis(low: 1.579, high: 4.311, integers: false, fixed: false)
        #expect(loss.low == 1.5 && loss.high == 4.5 && loss.step == 0.5)
        #expect(loss.ticks.map(loss.label) == ["1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5"])
        let accuracy = Axis(low: 0, high: 1, integers: false, fixed: true)
        #expect(accuracy.ticks.map(accuracy.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let tiny = Axis(low: -0.0031, high: 0.0007, integers: false, fixed: false)
        #expect(tiny.step == 0.001 && tiny.ticks.map(tiny.label) == ["-0.004", "-0.003", "-0.002", "-0.001", "0.000", "0.001"])
        #expect([1.0, 2, 5, 10, 20, 50].allSatisfy { Axis.niceStep($0 * 0.9) == $0 })
    }

    static func lines() -> [[String: Double]] {
        let terms = ["img_win_vs_no_img", "no_img_vs_img_lose", "img_lose_vs_no_img", "no_img_vs_img_win"]
        var out: [[String: Double]] = []
        for step in 1...12 {
            var line: [String: Double] = ["step": Double(step), "loss": 2.8 - Double(step) * 0.1]
            for (i, t) in terms.enumerated() { line["train_" + SVCOLoss.accuracyKey(t)] = Double((step + i) % 5) / 4 }
            out.append(line)
            if step % 4 == 0 {
                var eval: [String: Double] = ["step": Double(step), "eval_loss": 2.5]
                for (i, t) in terms.enumerated() { eval["eval_" + SVCOLoss.accuracyKey(t)] = Double((step + i) % 3) / 2 }
                out.append(eval)
            }
        }
        return out
    }

    @Test func eachTermHasOneColourForItsTrainLineAndEvalMarkers() {
        let chart = MetricsPlots.rewardAccuracy(Self.lines())
        #expect(chart.series.map(\.label) == ["img_win_vs_no_img", "img_win_vs_no_img", "no_img_vs_img_lose", "no_img_vs_img_lose",
                                              "img_lose_vs_no_img", "img_lose_vs_no_img", "no_img_vs_img_win", "no_img_vs_img_win"])
        #expect(chart.series.map(\.style) == [.line, .markers, .line, .markers, .line, .markers, .line, .markers])
        for pair in stride(from: 0, to: 8, by: 2) { #expect(chart.series[pair].colour == chart.series[pair + 1].colour) }
        #expect(chart.series.first { $0.style == .markers }?.points.map(\.x) == [4, 8, 12])
        let legend = chart.legend
        #expect(legend.map(\.label) == ["img_win_vs_no_img", "no_img_vs_img_lose", "img_lose_vs_no_img", "no_img_vs_img_win"])
        for (i, a) in legend.enumerated() { for b in legend.dropFirst(i + 1) { #expect(a.colour != b.colour) } }
        let loss = MetricsPlots.loss(Self.lines())
        #expect(loss.legend.count == 1 && loss.series.map(\.style) == [.line, .markers])
    }

    /// Rendered: the tick labels and the axis title are separate bands of text under the plot, with a
    /// blank gap between them; an evaluation marker is a filled square of its term's colour.
    @Test func axisTitleSitsUnderTheTickLabels() {
        let chart = MetricsPlots.rewardAccuracy(Self.lines())
        let height = 640
        let image = chart.render(height: height)
        let bottom = LineChart.margins.top + chart.plotHeight(height)
        func inkRows(_ range: Range<Int>) -> [Int] {
            range.filter { y in (0..<image.width).contains { x in image.pixels[(y * image.width + x) * 3] < 100 } }
        }
        let labels = inkRows((bottom + 6)..<(bottom + 30)), gap = inkRows((bottom + 26)..<(bottom + 33)), title = inkRows((bottom + 33)..<(bottom + 50))
        #expect(!labels.isEmpty && gap.isEmpty && !title.isEmpty, "labels \(labels) gap \(gap) title \(title)")
        let colour = chart.series[1].colour
        let counts = (0..<(image.width * image.height)).filter { i in
            (image.pixels[i * 3], image.pixels[i * 3 + 1], image.pixels[i * 3 + 2]) == colour
        }.count
        #expect(counts > 3 * 49, "three 7×7 markers and their dashes in \(colour)")
    }
}
