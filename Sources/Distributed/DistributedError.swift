#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What can go wrong between processes: a launch environment that does not add up, a rendezvous
/// that cannot happen, a collective that fails (a peer died, a timeout), a sharded checkpoint that
/// does not fit. Every case names the variable, the collective or the file at fault.
public enum DistributedError: Error, CustomStringConvertible, Sendable {
    /// An environment variable is malformed or inconsistent with another.
    case environment(variable: String, reason: String)
    /// A flag or config value (named as the user wrote it) is out of range.
    case setting(name: String, reason: String)
    /// MASTER_PORT (or the given port) is taken by another process.
    case portInUse(host: String, port: Int, reason: String)
    /// The rendezvous store could not be created or reached within the timeout.
    case rendezvous(host: String, port: Int, reason: String)
    /// The process group could not be created (rendezvous of the backend, NCCL bridge).
    case processGroup(backend: String, reason: String)
    /// A collective failed; `message` names the collective, the rank and the cause.
    case collective(message: String)
    /// Ranks disagree about something that must be equal everywhere (metric names, layouts).
    case mismatch(what: String, reason: String)
    /// A sharded optimizer checkpoint is missing, incomplete or does not fit these parameters.
    case checkpoint(path: String, reason: String)
    /// A launch command could not start or a rank failed.
    case launch(reason: String)

    public var description: String {
        switch self {
        case .environment(let variable, let reason): "environment variable \(variable): \(reason)"
        case .setting(let name, let reason): "\(name): \(reason)"
        case .portInUse(let host, let port, let reason):
            "port \(port) on \(host) is already in use (another job, or ranks of an earlier run still alive?); choose another with MASTER_PORT or --master-port: \(reason)"
        case .rendezvous(let host, let port, let reason): "rendezvous at \(host):\(port) failed: \(reason)"
        case .processGroup(let backend, let reason): "\(backend) process group: \(reason)"
        case .collective(let message): message
        case .mismatch(let what, let reason): "ranks disagree about \(what): \(reason)"
        case .checkpoint(let path, let reason): "\(path): \(reason)"
        case .launch(let reason): reason
        }
    }
}

extension DistributedError: LocalizedError {
    public var errorDescription: String? { description }
}
