#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name and renamed into place when complete, so a crash, a
/// full disk or a thrown error never leaves half a file where a whole one was expected.
///
/// Kept in its own small target (no libtorch) because checkpoints, evaluation results, the judge
/// cache and dataset files all write this way.
public final class AtomicFile {
    private let fd: Int32
    private let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Runs `body` to fill a temporary sibling of `path`, then syncs and renames it to `path`.
    /// On any error the temporary file is removed and `path` is untouched.
    public static func write(to path: String, _ body: (AtomicFile) throws -> Void) throws {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileWriteError(path: path, reason: "cannot create \(temporary): \(errnoMessage())") }
        let file = AtomicFile(fd: fd, path: path)
        do {
            try body(file)
            guard fsync(fd) == 0 else { throw FileWriteError(path: path, reason: "cannot sync: \(errnoMessage())") }
            close(fd)
            guard rename(temporary, path) == 0 else {
                throw FileWriteError(path: path, reason: "cannot rename \(temporary) into place: \(errnoMessage())")
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }

    /// Writes `bytes` as the whole file at `path`, atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { try $0.write(bytes) }
    }

    /// Appends `bytes` to the temporary file.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends the bytes of `buffer` to the temporary file.
    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            guard let base = buffer.baseAddress else { return }
            let n = systemWrite(fd, base + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileWriteError(path: path, reason: "write failed: \(errnoMessage())")
            }
            offset += n
        }
    }
}

/// A file that could not be created, written, synced or renamed into place; names the file.
public struct FileWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file that was being written (not its temporary name).
    public let path: String
    /// What failed, with the system's reason.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension FileWriteError: LocalizedError {
    public var errorDescription: String? { description }
}

private func errnoMessage() -> String { String(cString: strerror(errno)) }

#if canImport(Glibc)
private let systemWrite = Glibc.write
#else
private let systemWrite = Darwin.write
#endif
