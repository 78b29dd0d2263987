/// The kinds of Hub repositories, as named in URLs and cache folders.
public enum RepoType: String, Sendable, CaseIterable, Codable {
    case model, dataset, space

    /// Prefix of resolve URLs (`/datasets/ORG/NAME/resolve/…`); models have none.
    var urlPrefix: String {
        switch self {
        case .model: return ""
        case .dataset: return "datasets/"
        case .space: return "spaces/"
        }
    }

    /// `models`, `datasets`, `spaces`: the API path segment and the cache folder prefix.
    var plural: String { rawValue + "s" }
}

/// A Hub repository id, `org/name` (or a bare `name` for old canonical models), validated as the
/// Hub validates them: letters, digits, `-`, `_`, `.`; no `--` or `..`; at most 96 characters.
public struct RepoID: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else {
            throw HubError.invalidRepoID(text, reason: "a repository id has the form org/name")
        }
        for part in parts {
            if part.isEmpty { throw HubError.invalidRepoID(text, reason: "empty org or name") }
            if part.count > 96 { throw HubError.invalidRepoID(text, reason: "longer than 96 characters") }
            let allowed = part.unicodeScalars.allSatisfy {
                ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "_" || $0 == "."
            }
            if !allowed { throw HubError.invalidRepoID(text, reason: "only letters, digits, '-', '_' and '.' are allowed") }
            if part.contains("--") || part.contains("..") {
                throw HubError.invalidRepoID(text, reason: "'--' and '..' are not allowed")
            }
            if part.hasPrefix("-") || part.hasPrefix(".") || part.hasSuffix("-") || part.hasSuffix(".") {
                throw HubError.invalidRepoID(text, reason: "a part may not start or end with '-' or '.'")
            }
        }
        value = text
    }

    public var description: String { value }

    /// The cache folder of a repository: `models--org--name` (huggingface_hub's `repo_folder_name`).
    public func cacheFolderName(_ type: RepoType) -> String {
        ([type.plural] + value.split(separator: "/").map(String.init)).joined(separator: "--")
    }
}

/// Revisions that are commit hashes (40 hex digits) need no `refs/` entry.
func isCommitHash(_ revision: String) -> Bool {
    revision.utf8.count == 40 && revision.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
}
