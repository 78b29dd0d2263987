import CTorch
#if canImport(Glibc)
import Glibc
#endif

/// Errors from files and data handled by the Torch module (safetensors, checkpoints).
/// Failing tensor operations are programming errors and trap instead (see `TorchOp`).
public enum TorchError: Error, CustomStringConvertible, Sendable {
    /// A file could not be opened, read, written or renamed.
    case io(path: String, reason: String)
    /// A safetensors file is malformed; `tensor` names the entry when one is at fault.
    case malformedSafetensors(path: String, tensor: String?, reason: String)
    /// A checkpoint folder is inconsistent (index, shards, names).
    case malformedCheckpoint(path: String, reason: String)

    public var description: String {
        switch self {
        case .io(let path, let reason):
            "\(path): \(reason)"
        case .malformedSafetensors(let path, let tensor?, let reason):
            "\(path): tensor '\(tensor)': \(reason)"
        case .malformedSafetensors(let path, nil, let reason):
            "\(path): \(reason)"
        case .malformedCheckpoint(let path, let reason):
            "\(path): \(reason)"
        }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension TorchError: LocalizedError {
    public var errorDescription: String? { description }
}

/// Running out of memory is not a bug but a limit that flags and inputs reach (a batch, a model too
/// large for the device): it ends the program with one error line instead of a trap.
public enum OutOfMemory {
    /// What the running command suggests changing, printed under the error (e.g. `svco train`'s
    /// batch-size and memory flags). Set once at start-up, before any tensor work.
    nonisolated(unsafe) public static var advice: String?
    /// The exit status of a program stopped by an allocation failure.
    public static let exitStatus: Int32 = 1

    /// Whether torch's message is an allocation failure: CPU's allocator ("can't allocate memory"),
    /// CUDA's caching allocator ("CUDA out of memory"), or another backend's "out of memory".
    public static func isOutOfMemory(_ message: String) -> Bool {
        let lower = message.lowercased()
        return lower.contains("out of memory") || lower.contains("can't allocate memory") || lower.contains("not enough memory")
    }

    /// The error as printed: torch's message without its `[enforce fail at …]` source prefix.
    static func report(op: StaticString, shapes: String, message: String) -> String {
        var text = message
        if text.hasPrefix("[enforce fail at"), let end = text.firstRange(of: ". ") { text = String(text[end.upperBound...]) }
        var lines = ["Error: out of memory in torch op \(op)\(shapes.isEmpty ? "" : " on [\(shapes)]"): \(text)"]
        if let advice { lines.append(advice) }
        return lines.joined(separator: "\n")
    }
}

/// The one place a failed torch operation ends the program. Operator failures (shape mismatches,
/// dtype clashes) are bugs in svco, not in user input — inputs are validated before they reach
/// tensors — so they trap with the op, the operand shapes and torch's own message. An allocation
/// failure instead prints one error (see `OutOfMemory`) and exits: `_exit`, because it may happen
/// on the autograd engine's thread while others run, where exit's destructors are not safe.
enum TorchOp {
    static func fail(_ op: StaticString, _ operands: [Tensor]) -> Never {
        let message = String(cString: ct_last_error())
        let shapes = operands.map { "\($0.dtype)\($0.shape)" }.joined(separator: ", ")
        if OutOfMemory.isOutOfMemory(message) {
            fflush(nil)
            let report = Array((OutOfMemory.report(op: op, shapes: shapes, message: message) + "\n").utf8)
            _ = report.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            _exit(OutOfMemory.exitStatus)
        }
        fatalError("torch op \(op) failed on [\(shapes)]: \(message)")
    }

    @inline(__always)
    static func result(_ handle: OpaquePointer?, _ op: StaticString, _ operands: @autoclosure () -> [Tensor]) -> Tensor {
        guard let handle else { fail(op, operands()) }
        return Tensor(handle: handle)
    }

    @inline(__always)
    static func handle(_ handle: OpaquePointer?, _ op: StaticString, _ operands: @autoclosure () -> [Tensor]) -> OpaquePointer {
        guard let handle else { fail(op, operands()) }
        return handle
    }

    @inline(__always)
    static func status(_ code: Int32, _ op: StaticString, _ operands: @autoclosure () -> [Tensor]) {
        if code != 0 { fail(op, operands()) }
    }
}
