#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Errors of downloads from the Hugging Face Hub and other hosts. Messages name the URL, repository
/// or file and never contain the token.
public enum HubError: Error, Equatable, Sendable {
    /// `org/name` is not a valid repository id.
    case invalidRepoID(String, reason: String)
    /// HTTP 404 (or the Hub's `X-Error-Code`): nothing at this URL.
    case notFound(url: String, what: String)
    /// HTTP 401/403: the host wants a token (or a better one). `hadToken` tells which hint to give.
    case unauthorized(url: String, status: Int, hadToken: Bool, message: String)
    /// Another HTTP status that retries did not cure.
    case httpStatus(url: String, status: Int, attempts: Int, message: String)
    /// The connection failed (refused, reset, timed out) on every attempt.
    case connection(url: String, attempts: Int, reason: String)
    /// The server's answer lacks what the protocol promises (a header, a JSON field).
    case badResponse(url: String, reason: String)
    /// The downloaded bytes do not have the published digest; nothing was kept under the final name.
    case checksumMismatch(file: String, algorithm: String, expected: String, actual: String)
    /// The downloaded file does not have the published size.
    case sizeMismatch(file: String, expected: Int64, actual: Int64)
    /// `HF_HUB_OFFLINE=1` and the cache does not hold the file.
    case offlineMissing(repo: String, file: String, cache: String)
    /// The disk (or quota) is full.
    case diskFull(path: String, needed: Int64?)
    /// A local file operation failed.
    case io(path: String, reason: String)
}

extension HubError: LocalizedError, CustomStringConvertible {
    public var description: String { errorDescription ?? "hub error" }

    public var errorDescription: String? {
        switch self {
        case let .invalidRepoID(id, reason):
            return "'\(id)' is neither an existing folder nor a Hub repository id (org/name): \(reason)"
        case let .notFound(url, what):
            return "\(what) not found (HTTP 404): \(url)"
        case let .unauthorized(url, status, hadToken, message):
            let hint = hadToken
                ? "the token in HF_TOKEN (or the saved token) has no access to it: accept the repository's terms on the Hub or use a token that has access"
                : "the repository may be gated or private: set HF_TOKEN to a Hugging Face access token"
            return "HTTP \(status) for \(url): \(hint)" + (message.isEmpty ? "" : " (server: \(message))")
        case let .httpStatus(url, status, attempts, message):
            let tries = attempts > 1 ? " after \(attempts) attempts" : ""
            return "HTTP \(status)\(tries): \(url)" + (message.isEmpty ? "" : " (server: \(message))")
        case let .connection(url, attempts, reason):
            return "cannot download \(url) after \(attempts) attempt(s): \(reason)"
        case let .badResponse(url, reason):
            return "unexpected answer from \(url): \(reason)"
        case let .checksumMismatch(file, algorithm, expected, actual):
            return "\(file): \(algorithm) is \(actual) but the source publishes \(expected); the download is corrupt and was deleted"
        case let .sizeMismatch(file, expected, actual):
            return "\(file): \(actual) bytes but the source publishes \(expected); the download was deleted"
        case let .offlineMissing(repo, file, cache):
            return "HF_HUB_OFFLINE is set and \(repo) has no cached \(file) in \(cache); unset HF_HUB_OFFLINE to download it"
        case let .diskFull(path, needed):
            let need = needed.map { " (\(ByteCount.format($0)) needed)" } ?? ""
            return "no space left on the disk holding \(path)\(need); free some space and run the command again (completed files are kept)"
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }
}

/// Human-readable byte counts (binary units, as `du -h`).
public enum ByteCount {
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks (FoundationEssentials has
    /// no `trimmingCharacters`).
    func trimmed() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
