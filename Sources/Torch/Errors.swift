import CTorch

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

/// The one place a failed torch operation ends the program. Operator failures (shape mismatches,
/// dtype clashes) are bugs in svco, not in user input — inputs are validated before they reach
/// tensors — so they trap with the op, the operand shapes and torch's own message.
enum TorchOp {
    static func fail(_ op: StaticString, _ operands: [Tensor]) -> Never {
        let message = String(cString: ct_last_error())
        let shapes = operands.map { "\($0.dtype)\($0.shape)" }.joined(separator: ", ")
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
