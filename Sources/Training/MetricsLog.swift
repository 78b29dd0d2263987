#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `OUTPUT_DIR/metrics.jsonl`: one JSON object per logged or evaluation step.
public final class MetricsLog {
    public let path: String
    private let file: UnsafeMutablePointer<FILE>

    public init(path: String, append: Bool) throws {
        guard let f = fopen(path, append ? "a" : "w") else {
            throw TrainingError.io(path: path, reason: "cannot open for writing")
        }
        self.path = path
        file = f
    }

    deinit { fclose(file) }

    /// Writes one line (keys sorted, numbers as JSON numbers, non-finite as null) and flushes it.
    public func write(_ values: [String: Double]) {
        let fields = values.keys.sorted().map { key -> String in
            let v = values[key] ?? .nan
            return "\"\(key)\": " + (v.isFinite ? (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)") : "null")
        }
        fputs("{" + fields.joined(separator: ", ") + "}\n", file)
        fflush(file)
    }

    /// Reads every line back (for plots and tests).
    public static func read(path: String) throws -> [[String: Double]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            let object = try JSONDecoder().decode([String: Double?].self, from: Data(line.utf8))
            return object.compactMapValues { $0 }
        }
    }
}

/// Errors of a training run, naming the file or the step.
public enum TrainingError: Error, CustomStringConvertible, LocalizedError, Sendable {
    case io(path: String, reason: String)
    case nonFiniteLoss(step: Int, lastCheckpoint: String?)
    case invalidArguments(String)
    case checkpoint(path: String, reason: String)

    public var description: String {
        switch self {
        case .io(let path, let reason): "\(path): \(reason)"
        case .nonFiniteLoss(let step, let last):
            "the loss became NaN or infinite at step \(step); stopped without saving. "
                + (last.map { "The last good checkpoint is \($0)." } ?? "No checkpoint was written yet.")
        case .invalidArguments(let message): message
        case .checkpoint(let path, let reason): "\(path): \(reason)"
        }
    }
    public var errorDescription: String? { description }
}
