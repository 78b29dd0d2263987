import NIOCore
import NIOHTTP1
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A file to fetch over HTTP(S), and what the source publishes about it.
public struct RemoteFile: Sendable {
    public var url: String
    /// The final path; the file appears there only once complete and verified.
    public var destination: String
    /// Where the bytes collect until then (kept across runs so that a download resumes).
    public var partial: String
    public var expectedSize: Int64?
    /// Lower-case hex sha256 (Hub LFS files, pinned files).
    public var sha256: String?
    /// Git blob id (Hub files stored in git, not LFS).
    public var gitBlobID: String?
    /// The name shown in messages.
    public var label: String

    public init(url: String, destination: String, partial: String? = nil, expectedSize: Int64? = nil, sha256: String? = nil,
                gitBlobID: String? = nil, label: String? = nil) {
        self.url = url
        self.destination = destination
        self.partial = partial ?? destination + ".incomplete"
        self.expectedSize = expectedSize
        self.sha256 = sha256?.lowercased()
        self.gitBlobID = gitBlobID?.lowercased()
        self.label = label ?? destination
    }
}

/// Resumable, verified downloads: bytes go to `partial`; a dropped connection resumes there with
/// `Range`; 429/5xx and network errors are retried with exponential backoff; the size and digests
/// the source publishes are checked before the file takes its final name, and a file that fails
/// them is deleted (never kept under the final name, never resumed from).
public struct FileDownloader: Sendable {
    public let transport: HTTPTransport
    public var backoff: Backoff
    public var progress: TransferProgress?

    public init(transport: HTTPTransport, backoff: Backoff = Backoff(), progress: TransferProgress? = nil) {
        self.transport = transport
        self.backoff = backoff
        self.progress = progress
    }

    /// Downloads `file`; `authorization` goes only to the URL's own host.
    public func download(_ file: RemoteFile, authorization: String? = nil, what: String? = nil) async throws {
        try FileSystem.makeDirectories(FileSystem.parent(file.partial))
        try FileSystem.makeDirectories(FileSystem.parent(file.destination))
        var have = FileSystem.fileSize(file.partial) ?? 0
        if let expected = file.expectedSize, have > expected {
            unlink(file.partial)
            have = 0
        }
        if let expected = file.expectedSize, let free = FileSystem.freeBytes(FileSystem.parent(file.partial)), expected - have > free {
            throw HubError.diskFull(path: file.partial, needed: expected - have)
        }
        progress?.addFile(size: file.expectedSize, alreadyDone: have)

        let output = try OutputFile(path: file.partial)
        defer { output.close() }
        var digests = Digests(sha256: file.sha256 != nil)
        if have > 0 { try digests.feed(existingFile: file.partial, bytes: have) }

        var failures = 0
        var lastError = ""
        while true {
            if let expected = file.expectedSize, have == expected { break }
            var headers: [(String, String)] = []
            if have > 0 { headers.append(("Range", "bytes=\(have)-")) }
            var receivedThisAttempt = false
            do {
                let answer = try await transport.send(.GET, file.url, headers: headers, authorization: authorization, redirects: .all)
                switch answer.status {
                case 200:
                    if have > 0 {  // the server ignored Range: start over
                        progress?.adjust(done: -have)
                        try output.truncate()
                        have = 0
                        digests = Digests(sha256: file.sha256 != nil)
                    }
                case 206:
                    guard let range = answer.header("Content-Range"), Self.contentRangeStart(range) == have else {
                        throw HubError.badResponse(url: answer.url, reason: "Content-Range '\(answer.header("Content-Range") ?? "")' does not start at byte \(have)")
                    }
                case 416 where file.expectedSize == nil:
                    // Nothing after `have`: the partial file is already whole.
                    for try await _ in answer.body {}
                    break
                default:
                    if Backoff.isRetryable(status: answer.status) {
                        throw RetryableStatus(status: answer.status, message: await serverMessage(answer))
                    }
                    throw await statusError(answer, what: what ?? file.label, hadToken: authorization != nil)
                }
                if answer.status == 416 { break }
                if answer.status == 200, file.expectedSize == nil, let length = answer.header("Content-Length").flatMap(Int64.init) {
                    progress?.adjust(total: length)
                }
                for try await chunk in answer.body {
                    try chunk.withUnsafeReadableBytes { bytes in
                        try output.write(bytes, finalPath: file.destination, expected: file.expectedSize.map { $0 - have })
                        digests.update(bytes)
                    }
                    have += Int64(chunk.readableBytes)
                    receivedThisAttempt = receivedThisAttempt || chunk.readableBytes > 0
                    progress?.add(bytes: chunk.readableBytes)
                    if let expected = file.expectedSize, have > expected {
                        throw HubError.sizeMismatch(file: file.label, expected: expected, actual: have)
                    }
                }
                if file.expectedSize == nil { break }
                if let expected = file.expectedSize, have < expected {
                    throw ShortBody(have: have, expected: expected)
                }
            } catch let error as HubError {
                if case .sizeMismatch = error { output.close(); unlink(file.partial) }
                throw error
            } catch {
                if error is CancellationError { throw error }
                failures = receivedThisAttempt ? 1 : failures + 1
                lastError = (error as? RetryableStatus).map { "HTTP \($0.status)" + ($0.message.isEmpty ? "" : " (\($0.message))") } ?? describe(error)
                if failures >= backoff.maxAttempts {
                    if let status = error as? RetryableStatus {
                        throw HubError.httpStatus(url: file.url, status: status.status, attempts: failures, message: status.message)
                    }
                    throw HubError.connection(url: file.url, attempts: failures, reason: lastError)
                }
                try await pause(seconds: backoff.delay(afterAttempt: failures))
                have = FileSystem.fileSize(file.partial) ?? have
            }
        }
        try output.sync()
        output.close()
        // Verify before the final name; a corrupt file is deleted so a rerun starts clean.
        let size = FileSystem.fileSize(file.partial) ?? -1
        if let expected = file.expectedSize, size != expected {
            unlink(file.partial)
            throw HubError.sizeMismatch(file: file.label, expected: expected, actual: size)
        }
        if let expected = file.sha256 {
            let actual = digests.sha256Hex()
            if actual != expected {
                unlink(file.partial)
                throw HubError.checksumMismatch(file: file.label, algorithm: "sha256", expected: expected, actual: actual)
            }
        }
        // Git blob ids hash a "blob <size>\0" header first, so they are computed over the finished file
        // (such files are small: the Hub keeps large ones in LFS).
        if let expected = file.gitBlobID, let actual = try Digests.gitBlobID(ofFile: file.partial, size: size), actual != expected {
            unlink(file.partial)
            throw HubError.checksumMismatch(file: file.label, algorithm: "git blob id", expected: expected, actual: actual)
        }
        guard rename(file.partial, file.destination) == 0 else {
            throw HubError.io(path: file.destination, reason: "cannot move the download into place: \(FileSystem.errnoText())")
        }
        progress?.fileFinished()
    }

    /// The first byte of `Content-Range: bytes START-END/TOTAL`.
    static func contentRangeStart(_ value: String) -> Int64? {
        let v = value.trimmed()
        guard v.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = v.dropFirst(6)
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        return Int64(spec[..<dash].trimmed())
    }
}

struct RetryableStatus: Error { var status: Int; var message: String }
struct ShortBody: Error, CustomStringConvertible {
    var have: Int64, expected: Int64
    var description: String { "the connection closed after \(have) of \(expected) bytes" }
}

/// The sha256 of a download, updated as bytes arrive.
struct Digests {
    var sha256: SHA256?

    init(sha256 wanted: Bool) {
        sha256 = wanted ? SHA256() : nil
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        sha256?.update(bytes)
    }

    /// The git blob id of a file of `size` bytes.
    static func gitBlobID(ofFile path: String, size: Int64) throws -> String? {
        var d = Digests(sha256: false)
        var s = SHA1()
        s.update(Array("blob \(size)\u{0}".utf8))
        try d.feed(existingFile: path, bytes: size) { s.update($0) }
        return s.hexDigest()
    }

    /// Hashes the first `bytes` bytes of a partial download that is being resumed.
    mutating func feed(existingFile path: String, bytes: Int64, into sink: ((UnsafeRawBufferPointer) -> Void)? = nil) throws {
        guard sha256 != nil || sink != nil else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HubError.io(path: path, reason: "cannot read: \(FileSystem.errnoText())") }
        defer { Glibc.close(fd) }
        var left = bytes
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while left > 0 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, Int(min(Int64($0.count), left))) }
            if n < 0 { if errno == EINTR { continue }; throw HubError.io(path: path, reason: "cannot read: \(FileSystem.errnoText())") }
            if n == 0 { break }
            buffer.withUnsafeBytes {
                let chunk = UnsafeRawBufferPointer(rebasing: $0[0..<n])
                if let sink { sink(chunk) } else { update(chunk) }
            }
            left -= Int64(n)
        }
    }

    func sha256Hex() -> String { sha256?.hexDigest() ?? "" }
}

/// The partial file, opened for appending.
final class OutputFile: @unchecked Sendable {
    private var fd: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HubError.io(path: path, reason: "cannot write: \(FileSystem.errnoText())") }
    }

    func write(_ bytes: UnsafeRawBufferPointer, finalPath: String, expected: Int64?) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                if code == ENOSPC || code == EDQUOT { throw HubError.diskFull(path: finalPath, needed: expected) }
                throw HubError.io(path: path, reason: "cannot write: \(FileSystem.errnoText(code))")
            }
            offset += n
        }
    }

    func truncate() throws {
        guard ftruncate(fd, 0) == 0 else { throw HubError.io(path: path, reason: "cannot truncate: \(FileSystem.errnoText())") }
    }

    func sync() throws {
        guard fd >= 0 else { return }
        if fsync(fd) != 0 && errno != EINVAL {
            let code = errno
            if code == ENOSPC || code == EDQUOT { throw HubError.diskFull(path: path, needed: nil) }
            throw HubError.io(path: path, reason: "cannot flush to disk: \(FileSystem.errnoText(code))")
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { close() }
}
