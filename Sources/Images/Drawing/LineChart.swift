/// A line chart of named series against a shared x axis, drawn onto a `Canvas`.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var colour: Canvas.Colour
        /// Draw markers only (for sparse series such as evaluations).
        public var markersOnly: Bool

        public init(name: String, points: [(x: Double, y: Double)], colour: Canvas.Colour, markersOnly: Bool = false) {
            self.name = name
            self.points = points
            self.colour = colour
            self.markersOnly = markersOnly
        }
    }

    public var title: String
    public var xLabel: String
    public var series: [Series]
    /// Fixed y range (e.g. 0…1 for accuracies); nil fits the data.
    public var yRange: ClosedRange<Double>?

    public init(title: String, xLabel: String, series: [Series], yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.series = series
        self.yRange = yRange
    }

    public func render(width: Int = 900, height: Int = 560) -> RGBImage {
        var canvas = Canvas(width: width, height: height)
        let black: Canvas.Colour = (0, 0, 0), grey: Canvas.Colour = (200, 200, 200)
        let (left, right, top, bottom) = (90, 30, 50, 150)
        let plotW = width - left - right, plotH = height - top - bottom
        let all = series.flatMap(\.points)
        let xs = all.map(\.x), ys = all.map(\.y)
        let xMin = xs.min() ?? 0, xMax = max((xs.max() ?? 1), xMin + 1)
        var yMin = yRange?.lowerBound ?? (ys.min() ?? 0), yMax = yRange?.upperBound ?? (ys.max() ?? 1)
        if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
        func px(_ x: Double) -> Int { left + Int(((x - xMin) / (xMax - xMin) * Double(plotW)).rounded()) }
        func py(_ y: Double) -> Int { top + plotH - Int(((y - yMin) / (yMax - yMin) * Double(plotH)).rounded()) }

        canvas.text(title, left, 15, black, scale: 3)
        for k in 0...4 {  // grid and y labels
            let y = yMin + (yMax - yMin) * Double(k) / 4
            canvas.line(left, py(y), left + plotW, py(y), grey)
            let label = Self.format(y)
            canvas.text(label, left - 8 - Canvas.textWidth(label), py(y) - 7, black)
        }
        canvas.rectangle(left, top, plotW, plotH, black)
        canvas.text(Self.format(xMin), left, top + plotH + 8, black)
        let xMaxLabel = Self.format(xMax)
        canvas.text(xMaxLabel, left + plotW - Canvas.textWidth(xMaxLabel), top + plotH + 8, black)
        canvas.text(xLabel, left + plotW / 2 - Canvas.textWidth(xLabel) / 2, top + plotH + 8, black)
        for s in series {
            let points = s.points.sorted { $0.x < $1.x }
            if s.markersOnly || points.count == 1 {
                for p in points { for d in -3...3 { canvas.line(px(p.x) - 3, py(p.y) + d, px(p.x) + 3, py(p.y) + d, s.colour) } }
            } else {
                for (a, b) in zip(points, points.dropFirst()) { canvas.line(px(a.x), py(a.y), px(b.x), py(b.y), s.colour, thickness: 2) }
            }
        }
        for (i, s) in series.enumerated() {  // legend in two columns under the plot
            let x = left + (i % 2) * (plotW / 2), y = top + plotH + 40 + (i / 2) * 22
            canvas.line(x, y + 7, x + 24, y + 7, s.colour, thickness: 4)
            canvas.text(s.name, x + 32, y, black)
        }
        return canvas.image
    }

    static func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        let scaled = (v * 1000).rounded() / 1000
        return "\(scaled)"
    }
}
