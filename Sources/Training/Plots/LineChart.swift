#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Images

/// A line chart of named series against a shared x axis, drawn onto a `Canvas`: axes at round tick
/// values (1, 2 or 5 × 10ⁿ apart), the axis title under the tick labels, dense series as lines and
/// sparse ones as markers joined by dashed lines, and a legend with one entry per colour plus a key
/// of the two styles.
public struct LineChart: Sendable {
    public enum Style: Sendable {
        /// A solid line (training curves, logged every few steps).
        case line
        /// Square markers joined by a dashed line (evaluations, logged rarely).
        case markers
    }

    public struct Series: Sendable {
        /// The legend entry; series drawn in the same colour share one (e.g. a term's train and eval curves).
        public var label: String
        public var points: [(x: Double, y: Double)]
        public var colour: Canvas.Colour
        public var style: Style

        public init(label: String, points: [(x: Double, y: Double)], colour: Canvas.Colour, style: Style = .line) {
            self.label = label
            self.points = points
            self.colour = colour
            self.style = style
        }
    }

    public var title: String
    public var xLabel: String
    public var series: [Series]
    /// Fixed y range (e.g. 0…1 for accuracies); nil fits the data, widened to round ticks.
    public var yRange: ClosedRange<Double>?
    /// Names of the two styles in the legend's key (nil: no key, e.g. when every series is a line).
    public var styleNames: (line: String, markers: String)?

    public init(title: String, xLabel: String, series: [Series], yRange: ClosedRange<Double>? = nil,
                styleNames: (line: String, markers: String)? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.series = series
        self.yRange = yRange
        self.styleNames = styleNames
    }

    static let black: Canvas.Colour = (0, 0, 0)
    static let grey: Canvas.Colour = (215, 215, 215)
    static let margins = (left: 90, right: 30, top: 50)

    /// The legend's entries: each colour once, with the label of its first series.
    public var legend: [(label: String, colour: Canvas.Colour)] {
        var out: [(label: String, colour: Canvas.Colour)] = []
        for s in series where !out.contains(where: { $0.colour == s.colour }) { out.append((s.label, s.colour)) }
        return out
    }

    /// The plot area's height for a canvas of `height`: what the title, tick labels, axis title and legend leave.
    func plotHeight(_ height: Int) -> Int {
        let entries = legend.count + (styleNames == nil ? 0 : 2)
        return height - Self.margins.top - 70 - ((entries + 1) / 2) * 22 - 10
    }

    public func render(width: Int = 900, height: Int = 560) -> RGBImage {
        var canvas = Canvas(width: width, height: height)
        let (left, right, top) = Self.margins
        let plotW = width - left - right, plotH = plotHeight(height)
        let all = series.flatMap(\.points)
        let xAxis = Axis(low: all.map(\.x).min() ?? 0, high: all.map(\.x).max() ?? 1, integers: true, fixed: false)
        let yAxis = Axis(low: yRange?.lowerBound ?? (all.map(\.y).min() ?? 0), high: yRange?.upperBound ?? (all.map(\.y).max() ?? 1),
                         integers: false, fixed: yRange != nil)
        func px(_ x: Double) -> Int { left + Int(((x - xAxis.low) / (xAxis.high - xAxis.low) * Double(plotW)).rounded()) }
        func py(_ y: Double) -> Int { top + plotH - Int(((y - yAxis.low) / (yAxis.high - yAxis.low) * Double(plotH)).rounded()) }

        canvas.text(title, left, 15, Self.black, scale: 3)
        for y in yAxis.ticks {
            canvas.line(left, py(y), left + plotW, py(y), Self.grey)
            let label = yAxis.label(y)
            canvas.text(label, left - 8 - Canvas.textWidth(label), py(y) - 7, Self.black)
        }
        for x in xAxis.ticks {
            canvas.line(px(x), top, px(x), top + plotH, Self.grey)
            canvas.line(px(x), top + plotH, px(x), top + plotH + 5, Self.black)
            let label = xAxis.label(x)
            canvas.text(label, px(x) - Canvas.textWidth(label) / 2, top + plotH + 10, Self.black)
        }
        canvas.rectangle(left, top, plotW, plotH, Self.black)
        canvas.text(xLabel, left + plotW / 2 - Canvas.textWidth(xLabel) / 2, top + plotH + 34, Self.black)

        for s in series {
            let points = s.points.sorted { $0.x < $1.x }.map { (px($0.x), py($0.y)) }
            switch s.style {
            case .line:
                if points.count == 1, let p = points.first { Self.marker(&canvas, p, s.colour) }
                for (a, b) in zip(points, points.dropFirst()) { canvas.line(a.0, a.1, b.0, b.1, s.colour, thickness: 2) }
            case .markers:
                for (a, b) in zip(points, points.dropFirst()) { Self.dashed(&canvas, a, b, s.colour) }
                for p in points { Self.marker(&canvas, p, s.colour) }
            }
        }

        var entries: [(String, (inout Canvas, Int, Int) -> Void)] = legend.map { entry in
            (entry.label, { c, x, y in c.line(x, y + 7, x + 24, y + 7, entry.colour, thickness: 4) })
        }
        if let names = styleNames {
            entries.append((names.line, { c, x, y in c.line(x, y + 7, x + 24, y + 7, Self.black, thickness: 2) }))
            entries.append((names.markers, { c, x, y in
                Self.dashed(&c, (x, y + 7), (x + 24, y + 7), Self.black)
                Self.marker(&c, (x + 3, y + 7), Self.black)
                Self.marker(&c, (x + 21, y + 7), Self.black)
            }))
        }
        for (i, entry) in entries.enumerated() {  // two columns under the axis title
            let x = left + (i % 2) * (plotW / 2), y = top + plotH + 62 + (i / 2) * 22
            entry.1(&canvas, x, y)
            canvas.text(entry.0, x + 32, y, Self.black)
        }
        return canvas.image
    }

    static func marker(_ canvas: inout Canvas, _ p: (Int, Int), _ colour: Canvas.Colour) {
        for d in -3...3 { canvas.line(p.0 - 3, p.1 + d, p.0 + 3, p.1 + d, colour) }
    }

    /// 6 pixels drawn, 4 left out, along the segment.
    static func dashed(_ canvas: inout Canvas, _ a: (Int, Int), _ b: (Int, Int), _ colour: Canvas.Colour) {
        let dx = Double(b.0 - a.0), dy = Double(b.1 - a.1)
        let length = (dx * dx + dy * dy).squareRoot()
        guard length > 0 else { return }
        var t = 0.0
        while t < length {
            let end = min(length, t + 6)
            canvas.line(a.0 + Int((dx * t / length).rounded()), a.1 + Int((dy * t / length).rounded()),
                        a.0 + Int((dx * end / length).rounded()), a.1 + Int((dy * end / length).rounded()), colour, thickness: 2)
            t += 10
        }
    }
}

/// An axis with round ticks: the range widened to whole tick steps (unless fixed), steps of 1, 2 or
/// 5 × 10ⁿ (whole numbers on an integer axis such as optimiser steps), at most about six ticks.
struct Axis {
    let low: Double
    let high: Double
    let step: Double
    let ticks: [Double]

    init(low: Double, high: Double, integers: Bool, fixed: Bool, maxTicks: Int = 6) {
        var lo = low, hi = high
        if hi - lo < 1e-12 { lo -= integers ? 1 : 0.5; hi += integers ? 1 : 0.5 }
        var step = Self.niceStep((hi - lo) / Double(maxTicks))
        if integers { step = max(1, step.rounded(.up)) }
        if !fixed {
            lo = (lo / step).rounded(.down) * step
            hi = (hi / step).rounded(.up) * step
        }
        self.low = lo
        self.high = hi
        self.step = step
        let first = (lo / step).rounded(.up)
        let last = (hi / step + 1e-9).rounded(.down)
        ticks = first <= last ? (Int(first)...Int(last)).map { Double($0) * step } : []
    }

    /// The smallest of 1, 2, 5 × 10ⁿ at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for m in [1.0, 2, 5, 10] where m * magnitude >= raw * (1 - 1e-9) { return m * magnitude }
        return 10 * magnitude
    }

    /// A tick label with as many decimals as the step has.
    func label(_ v: Double) -> String {
        var decimals = 0
        var s = step
        while decimals < 6 && abs(s - s.rounded()) > 1e-9 * max(1, abs(s)) {
            s *= 10
            decimals += 1
        }
        if decimals == 0 { return String(Int(v.rounded())) }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((v * scale).rounded())
        let sign = scaled < 0 ? "-" : ""
        let digits = String(abs(scaled))
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        return sign + padded.dropLast(decimals) + "." + padded.suffix(decimals)
    }
}
