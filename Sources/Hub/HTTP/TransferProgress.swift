import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// One progress bar for all the files of a command: bytes done of bytes expected, the rate over the
/// last seconds and the time left. On a terminal it redraws one line on stderr; otherwise (logs, CI)
/// it prints a line every `logInterval` seconds.
public final class TransferProgress: Sendable {
    struct State {
        var total: Int64 = 0
        var done: Int64 = 0
        var filesTotal = 0
        var filesDone = 0
        var samples: [(time: Double, done: Int64)] = []
        var lastDraw = -1.0
        var drewLine = false
    }

    private let state = NIOLockedValueBox(State())
    private let label: String
    private let enabled: Bool
    private let isTerminal: Bool
    private let logInterval: Double

    /// `enabled: false` keeps count without printing (tests, `--quiet`).
    public init(label: String, enabled: Bool = true, logInterval: Double = 10) {
        self.label = label
        self.enabled = enabled
        isTerminal = isatty(2) != 0
        self.logInterval = logInterval
    }

    /// Announces a file of `size` bytes (nil when unknown) of which `alreadyDone` are on disk.
    public func addFile(size: Int64?, alreadyDone: Int64 = 0) {
        state.withLockedValue {
            $0.filesTotal += 1
            $0.total += size ?? 0
            $0.done += alreadyDone
        }
    }

    /// Corrects the byte count (a file's size became known, or a restart threw bytes away).
    public func adjust(total: Int64 = 0, done: Int64 = 0) {
        state.withLockedValue { $0.total += total; $0.done += done }
    }

    public func add(bytes: Int) {
        let line: String? = state.withLockedValue { s in
            s.done += Int64(bytes)
            return render(&s, force: false)
        }
        if let line { emit(line) }
    }

    public func fileFinished() {
        let line: String? = state.withLockedValue { s in
            s.filesDone += 1
            return render(&s, force: true)
        }
        if let line { emit(line) }
    }

    /// Ends the bar's line (call once at the end).
    public func finish() {
        let line: String? = state.withLockedValue { s in render(&s, force: true) }
        if let line { emit(line) }
        if enabled && isTerminal && state.withLockedValue({ $0.drewLine }) { Self.writeStandardError("\n") }
    }

    public var bytesDone: Int64 { state.withLockedValue { $0.done } }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    private func render(_ s: inout State, force: Bool) -> String? {
        guard enabled else { return nil }
        let t = Self.now()
        let interval = isTerminal ? 0.25 : logInterval
        if !force && t - s.lastDraw < interval { return nil }
        s.lastDraw = t
        s.samples.append((t, s.done))
        // Rate over the last ~10 s (bytes on disk before this run do not count).
        while s.samples.count > 2 && t - s.samples[0].time > 10 { s.samples.removeFirst() }
        var rate = 0.0
        if let first = s.samples.first, t - first.time > 0.2 { rate = Double(s.done - first.done) / (t - first.time) }
        s.drewLine = true
        return Self.line(label: label, done: s.done, total: s.total, rate: rate, filesDone: s.filesDone, filesTotal: s.filesTotal,
                         width: 24)
    }

    /// `label [#########...........]  1.2 GiB / 4.4 GiB  35.1 MiB/s  ETA 1m32s  3/7 files`
    static func line(label: String, done: Int64, total: Int64, rate: Double, filesDone: Int, filesTotal: Int, width: Int) -> String {
        var parts = [label]
        if total > 0 {
            let fraction = min(1, max(0, Double(done) / Double(total)))
            let filled = Int((fraction * Double(width)).rounded(.down))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            parts.append("\(ByteCount.format(done)) / \(ByteCount.format(total))")
        } else {
            parts.append(ByteCount.format(done))
        }
        parts.append(rate > 0 ? "\(ByteCount.format(Int64(rate)))/s" : "-- B/s")
        if total > 0 && rate > 0 {
            parts.append("ETA " + formatDuration(Double(max(0, total - done)) / rate))
        }
        if filesTotal > 1 { parts.append("\(filesDone)/\(filesTotal) files") }
        return parts.joined(separator: "  ")
    }

    static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format2(s % 3600 / 60)))m" }
        return "\(s / 60)m\(format2(s % 60))s"
    }

    private static func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    private func emit(_ line: String) {
        Self.writeStandardError(isTerminal ? "\r\u{1B}[2K" + line : line + "\n")
    }

    /// Writes text to stderr (unbuffered, so it interleaves with the bar).
    public static func writeStandardError(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
            offset += n
        }
    }
}
