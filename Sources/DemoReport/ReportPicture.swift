import Evaluation
import Images

/// The demo's picture: grouped bars (paired accuracy, accuracy, accuracy where the picture contradicts
/// the prior, no-image gap) per model, then a few held-out pairs with each model's answers beside the
/// pictures. Drawn with svco's own `Canvas` (5×7 capitals font) and written as PNG.
enum ReportPicture {
    static let width = 1100
    static let black: Canvas.Colour = (0, 0, 0), grey: Canvas.Colour = (200, 200, 200)
    static let right: Canvas.Colour = (20, 140, 40), wrong: Canvas.Colour = (200, 30, 30)
    /// Bar colours by run position: base, then the trained models.
    static let palette: [Canvas.Colour] = [(150, 150, 150), (255, 127, 14), (31, 119, 180), (44, 160, 44), (148, 103, 189)]

    static func render(runs: [DemoRun], examples: [(BenchmarkPair, [String])], title: String) -> RGBImage {
        let chartHeight = 470, rowHeight = 118
        var canvas = Canvas(width: width, height: chartHeight + 40 + rowHeight * examples.count + 20)
        canvas.text(title, 30, 14, black, scale: 3)
        drawBars(&canvas, runs: runs, top: 60, height: chartHeight - 60)
        canvas.text("HELD-OUT PAIRS: THE ANSWER EACH MODEL GIVES TO EACH PICTURE (GREEN RIGHT, RED WRONG)", 30, chartHeight + 10, black)
        for (i, example) in examples.enumerated() {
            drawExample(&canvas, pair: example.0, imagePaths: example.1, runs: runs, top: chartHeight + 40 + i * rowHeight)
        }
        return canvas.image
    }

    static func fill(_ canvas: inout Canvas, _ x: Int, _ y: Int, _ w: Int, _ h: Int, _ c: Canvas.Colour) {
        for yy in y..<(y + max(h, 0)) { for xx in x..<(x + max(w, 0)) { canvas.set(xx, yy, c) } }
    }

    static func drawBars(_ canvas: inout Canvas, runs: [DemoRun], top: Int, height: Int) {
        let groups: [(String, (DemoRun) -> Double)] = [
            ("PAIRED ACCURACY", \.pairedAccuracy), ("ACCURACY", \.accuracy),
            ("PRIOR-CONFLICT ACCURACY", \.conflictAccuracy), ("NO-IMAGE GAP", \.noImageGap),
        ]
        let values = runs.flatMap { r in groups.map { $0.1(r) } }
        let yMin = min(0, ((values.min() ?? 0) * 10).rounded(.down) / 10), yMax = 1.0
        let (left, plotW, plotH) = (80, width - 110, height - 70)
        func py(_ v: Double) -> Int { top + plotH - Int(((v - yMin) / (yMax - yMin) * Double(plotH)).rounded()) }
        var tick = yMin
        while tick <= yMax + 1e-9 {  // grid every 0.2 (and at 0)
            canvas.line(left, py(tick), left + plotW, py(tick), abs(tick) < 1e-9 ? black : grey)
            let label = String(format: "%.1f", tick)
            canvas.text(label, left - 10 - Canvas.textWidth(label), py(tick) - 7, black)
            tick += 0.2
        }
        let groupW = plotW / groups.count, barW = min(60, (groupW - 40) / max(runs.count, 1))
        for (g, group) in groups.enumerated() {
            let x0 = left + g * groupW + (groupW - barW * runs.count) / 2
            for (i, run) in runs.enumerated() {
                let v = group.1(run), x = x0 + i * barW
                let (a, b) = (py(max(v, 0)), py(min(v, 0)))
                fill(&canvas, x + 3, a, barW - 6, b - a, palette[i % palette.count])
                let label = String(format: "%.2f", v)
                canvas.text(label, x + barW / 2 - Canvas.textWidth(label, scale: 1) / 2, (v >= 0 ? a - 12 : b + 4), black, scale: 1)
            }
            canvas.text(group.0, left + g * groupW + groupW / 2 - Canvas.textWidth(group.0) / 2, top + plotH + 12, black)
        }
        for (i, run) in runs.enumerated() {  // legend
            let x = left + i * 200, y = top + plotH + 40
            fill(&canvas, x, y, 24, 14, palette[i % palette.count])
            canvas.text(run.name, x + 32, y, black)
        }
    }

    static func drawExample(_ canvas: inout Canvas, pair: BenchmarkPair, imagePaths: [String], runs: [DemoRun], top: Int) {
        let scale = 3, side = 32 * scale
        for (j, path) in imagePaths.enumerated() {
            let x0 = 30 + j * (side + 10)
            if let image = try? ImageDecoder.decode(file: path) {
                for y in 0..<side { for x in 0..<side {
                    let sx = min(x * image.width / side, image.width - 1), sy = min(y * image.height / side, image.height - 1)
                    let i = (sy * image.width + sx) * 3
                    canvas.set(x0 + x, top + y, (image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]))
                } }
            }
            canvas.rectangle(x0 - 1, top - 1, side + 1, side + 1, grey)
        }
        let textX = 30 + 2 * (side + 10) + 20
        canvas.text(pair.question, textX, top + 2, black)
        for (j, index) in pair.indices.enumerated() where j < pair.answers.count {
            let y = top + 30 + j * 34
            let correct = pair.answers[j]
            let head = (j == 0 ? "LEFT PICTURE " : "RIGHT PICTURE") + "  TRUE " + correct
            canvas.text(head, textX, y, black)
            var x = textX + Canvas.textWidth(head) + 24
            for run in runs {
                let response = run.responses[String(index)] ?? ""
                let shown = String(response.prefix(9))
                let ok = MultipleChoice.isCorrect(response: response, answer: correct)
                let text = run.name + " " + shown
                canvas.text(text, x, y, ok ? right : wrong)
                x += Canvas.textWidth(text) + 24
            }
        }
    }
}
