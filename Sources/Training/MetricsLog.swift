#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Datasets
import AtomicFiles
import Torch

/// `OUTPUT_DIR/metrics.jsonl`: one JSON object per logged or evaluation step (HF Trainer's
/// `log_history`, one line each).
public final class MetricsLog {
    public let path: String
    private var file: UnsafeMutablePointer<FILE>

    public init(path: String, append: Bool) throws {
        guard let f = fopen(path, append ? "a" : "w") else {
            throw TrainingError.io(path: path, reason: "cannot open for writing (\(String(cString: strerror(errno))))")
        }
        self.path = path
        file = f
    }

    deinit { fclose(file) }

    /// Writes one line (keys sorted, numbers as JSON numbers, non-finite as null) and flushes it;
    /// throws when the line did not reach the file (a full disk, a removed folder).
    public func write(_ values: [String: Double]) throws {
        let fields = values.keys.sorted().map { key -> String in
            let v = values[key] ?? .nan
            return "\"\(key)\": " + (v.isFinite ? (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)") : "null")
        }
        clearerr(file)
        if fputs("{" + fields.joined(separator: ", ") + "}\n", file) < 0 || fflush(file) != 0 || ferror(file) != 0 {
            let reason = String(cString: strerror(errno))
            clearerr(file)
            throw TrainingError.io(path: path, reason: "cannot write (\(reason))")
        }
    }

    /// Drops the lines of steps after `step` (those a resumed run repeats), so the log holds each step
    /// once. The file is rewritten atomically, then appended to.
    public func truncate(afterStep step: Int) throws {
        fclose(file)
        defer {
            if let f = fopen(path, "a") { file = f }
        }
        let text = String(decoding: try FileRead.contents(of: path), as: UTF8.self)
        let kept = text.split(separator: "\n").filter { line in
            guard let object = try? JSONDecoder().decode([String: Double?].self, from: Data(line.utf8)),
                  let lineStep = object["step"] ?? nil else { return true }
            return lineStep <= Double(step)
        }
        try AtomicFile.write(to: path) { try $0.write(Array(kept.map { $0 + "\n" }.joined().utf8)) }
    }

    /// Reads every line back (for plots and tests).
    public static func read(path: String) throws -> [[String: Double]] {
        let data = try FileRead.contents(of: path)
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated().map { n, line in
            do {
                let object = try JSONDecoder().decode([String: Double?].self, from: Data(line.utf8))
                return object.compactMapValues { $0 }
            } catch {
                throw TrainingError.io(path: path, reason: "line \(n + 1) is not a JSON object of numbers")
            }
        }
    }
}

/// Errors of a training run, naming the file or the step.
public enum TrainingError: Error, CustomStringConvertible, LocalizedError, Sendable {
    case io(path: String, reason: String)
    case nonFiniteLoss(step: Int, lastCheckpoint: String?)
    case invalidArguments(String)
    case checkpoint(path: String, reason: String)
    /// Problems in the training or evaluation records found before step 1.
    case data(String)
    /// metrics.jsonl (or the TensorBoard file) could not be written at `step`; training stopped.
    case logWrite(path: String, step: Int, reason: String, saved: String?, saveError: String?)

    public var description: String {
        switch self {
        case .io(let path, let reason): "\(path): \(reason)"
        case .nonFiniteLoss(let step, let last):
            "the loss became NaN or infinite at step \(step); stopped without saving. "
                + (last.map { "The last good checkpoint is \($0)." } ?? "No checkpoint was written yet.")
        case .invalidArguments(let message): message
        case .checkpoint(let path, let reason): "\(path): \(reason)"
        case .data(let message): message
        case .logWrite(let path, let step, let reason, let saved, let saveError):
            "\(path): \(reason) at step \(step); training stopped. "
                + (saved.map { "Saved \($0) first: free space and resume with --resume-from-checkpoint latest." }
                    ?? "The state of step \(step) could not be saved either (\(saveError ?? "unknown error")).")
        }
    }
    public var errorDescription: String? { description }
}
