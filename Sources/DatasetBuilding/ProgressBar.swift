#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress line for long stages: `label [#######.....] 120/1000 pairs  35.2 pairs/s  ETA 0m25s`.
///
/// On a terminal the line redraws in place; otherwise (a log file, a CI job) it prints a line at
/// every tenth of the work and at least once a minute, so logs stay short. The rate counts only
/// the work done in this run (a resumed run's earlier work does not inflate it).
public final class ProgressBar {
    let total: Int
    let unit: String
    let label: String
    let interactive: Bool
    let emit: (String) -> Void
    let startCount: Int
    let started = ContinuousClock.now
    var lastLine = ContinuousClock.now
    var lastTenth: Int
    var done: Int

    /// - Parameters:
    ///   - start: work already done before this run (a resumed run).
    ///   - interactive: redraw in place; default: whether stderr is a terminal.
    ///   - emit: where lines go; default stderr.
    public init(total: Int, unit: String, label: String, start: Int = 0, interactive: Bool? = nil,
                emit: ((String) -> Void)? = nil) {
        self.total = total
        self.unit = unit
        self.label = label
        self.startCount = start
        self.done = start
        self.interactive = interactive ?? (isatty(2) == 1)
        self.emit = emit ?? { line in ProgressBar.writeStderr(line) }
        lastTenth = total > 0 ? start * 10 / total : 10
    }

    /// Records that `done` units are finished (including the ones before this run).
    public func update(_ done: Int) {
        self.done = done
        let now = ContinuousClock.now
        if interactive {
            emit("\r\u{1B}[K" + line(now))
            return
        }
        let tenth = total > 0 ? done * 10 / total : 10
        if tenth > lastTenth || now - lastLine >= .seconds(60) {
            lastTenth = tenth
            lastLine = now
            emit(line(now) + "\n")
        }
    }

    /// Ends the line (a final newline on a terminal).
    public func finish() {
        if interactive { emit("\r\u{1B}[K" + line(ContinuousClock.now) + "\n") }
    }

    func line(_ now: ContinuousClock.Instant) -> String {
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let elapsed = now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let fresh = done - startCount
        var text = "\(label) [\(bar)] \(done)/\(total) \(unit)"
        if fresh > 0 && seconds > 0 {
            let rate = Double(fresh) / seconds
            let eta = Int((Double(total - done) / rate).rounded(.up))
            text += "  \(Self.format(rate)) \(unit)/s  ETA \(eta / 60)m\(eta % 60)s"
        }
        return text
    }

    /// A rate for people: whole numbers from 100, one decimal from 10, else two (a CPU run of the
    /// real similarity models manages 0.05 images/s).
    public static func format(_ rate: Double) -> String {
        guard rate.isFinite, rate >= 0 else { return "?" }
        if rate >= 100 { return "\(Int(rate.rounded()))" }
        let decimals = rate >= 10 ? 1 : 2
        let scale = decimals == 1 ? 10 : 100
        let units = Int((rate * Double(scale)).rounded())
        let fraction = String(units % scale)
        return "\(units / scale)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    static func writeStderr(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }
}
