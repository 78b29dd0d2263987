import NIOHTTP1
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A repository at a revision as the Hub API describes it.
public struct RepoRevision: Sendable, Equatable {
    /// The commit the revision points to.
    public var commit: String
    /// Every file of the commit (`siblings[].rfilename`).
    public var files: [String]
}

/// What a HEAD on a file's resolve URL tells (huggingface_hub's `HfFileMetadata`).
public struct FileMetadata: Sendable, Equatable {
    public var commit: String
    /// `X-Linked-Etag` (LFS files: their sha256) or `ETag` (other files: their git blob id), unquoted.
    public var etag: String
    public var size: Int64
    /// Where the bytes are: the resolve URL itself or the CDN URL it redirects to.
    public var location: String
    /// True for LFS files (the Hub sent `X-Linked-Etag`).
    public var isLFS: Bool
}

/// The Hub's HTTP API, as huggingface_hub uses it:
/// `GET /api/{models|datasets|spaces}/REPO/revision/REV` for the commit and file list, and
/// `HEAD /[datasets/|spaces/]REPO/resolve/REV/PATH` for a file's commit, ETag, size and location.
public struct HubClient: Sendable {
    public let environment: HubEnvironment
    public let transport: HTTPTransport
    public var backoff: Backoff

    public init(environment: HubEnvironment, transport: HTTPTransport, backoff: Backoff = Backoff()) {
        self.environment = environment
        self.transport = transport
        self.backoff = backoff
    }

    var authorization: String? { environment.token.map { "Bearer " + $0 } }

    /// `https://huggingface.co/datasets/org/name/resolve/main/path/to/file`
    public func resolveURL(repo: RepoID, type: RepoType, revision: String, path: String) -> String {
        "\(environment.endpoint)/\(type.urlPrefix)\(repo.value)/resolve/\(Self.quote(revision, keepSlash: false))/\(Self.quote(path, keepSlash: true))"
    }

    public func repoInfoURL(repo: RepoID, type: RepoType, revision: String) -> String {
        "\(environment.endpoint)/api/\(type.plural)/\(repo.value)/revision/\(Self.quote(revision, keepSlash: false))"
    }

    /// The commit and the file list of a revision.
    public func revisionInfo(repo: RepoID, type: RepoType, revision: String) async throws -> RepoRevision {
        let url = repoInfoURL(repo: repo, type: type, revision: revision)
        let answer = try await withRetries(url: url) {
            try await transport.send(.GET, url, authorization: authorization, redirects: .sameHostOnly)
        }
        guard answer.status == 200 else {
            throw await statusError(answer, what: "\(type.rawValue) repository \(repo) at revision '\(revision)'", hadToken: authorization != nil)
        }
        let body = try await answer.collect()
        struct Info: Decodable {
            struct Sibling: Decodable { var rfilename: String }
            var sha: String?
            var siblings: [Sibling]?
        }
        let info: Info
        do { info = try JSONDecoder().decode(Info.self, from: Data(body)) } catch {
            throw HubError.badResponse(url: url, reason: "not the Hub's repository JSON (\(error))")
        }
        guard let sha = info.sha, isCommitHash(sha) else { throw HubError.badResponse(url: url, reason: "no commit 'sha' in the answer") }
        guard let siblings = info.siblings else { throw HubError.badResponse(url: url, reason: "no 'siblings' file list in the answer") }
        return RepoRevision(commit: sha, files: siblings.map(\.rfilename))
    }

    /// HEAD on the file's resolve URL, following only same-host redirects (a renamed repository):
    /// the redirect to a CDN carries the metadata itself.
    public func fileMetadata(repo: RepoID, type: RepoType, revision: String, path: String) async throws -> FileMetadata {
        let url = resolveURL(repo: repo, type: type, revision: revision, path: path)
        let answer = try await withRetries(url: url) {
            try await transport.send(.HEAD, url, authorization: authorization, redirects: .sameHostOnly)
        }
        guard (200...399).contains(answer.status) else {
            let what = answer.header("X-Error-Code") == "EntryNotFound" || answer.status == 404
                ? "\(path) in \(type.rawValue) repository \(repo) at revision '\(revision)'" : "\(type.rawValue) repository \(repo)"
            if answer.status == 404, answer.header("X-Error-Code") == "EntryNotFound", let commit = answer.header("X-Repo-Commit") {
                HubCacheRepo(cacheDirectory: environment.cacheDirectory, repo: repo, type: type).markMissing(commit: commit, file: path)
            }
            throw await statusError(answer, what: what, hadToken: authorization != nil)
        }
        guard let commit = answer.header("X-Repo-Commit") else {
            throw HubError.badResponse(url: url, reason: "no X-Repo-Commit header: is HF_ENDPOINT a Hugging Face Hub?")
        }
        let linked = answer.header("X-Linked-Etag")
        guard let rawEtag = linked ?? answer.header("ETag") else {
            throw HubError.badResponse(url: url, reason: "no ETag header")
        }
        guard let size = (answer.header("X-Linked-Size") ?? answer.header("Content-Length")).flatMap({ Int64($0) }) else {
            throw HubError.badResponse(url: url, reason: "no X-Linked-Size or Content-Length header")
        }
        let location = answer.header("Location").flatMap { HTTPTransport.resolve($0, against: answer.url) } ?? answer.url
        return FileMetadata(commit: commit, etag: Self.normaliseETag(rawEtag), size: size, location: location, isLFS: linked != nil)
    }

    /// `W/"abc"` and `"abc"` → `abc` (huggingface_hub's `_normalize_etag`).
    public static func normaliseETag(_ etag: String) -> String {
        var e = Substring(etag.trimmed())
        if e.hasPrefix("W/") { e = e.dropFirst(2) }
        while e.hasPrefix("\"") { e = e.dropFirst() }
        while e.hasSuffix("\"") { e = e.dropLast() }
        return String(e)
    }

    /// Percent-encoding as Python's `urllib.parse.quote` (unreserved characters kept; `/` kept in paths).
    static func quote(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || "-._~".contains(c) || (keepSlash && byte == 0x2F) {
                out.append(c)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    /// Retries a request on network errors and 429/5xx answers.
    func withRetries(url: String, _ send: () async throws -> HTTPAnswer) async throws -> HTTPAnswer {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let answer = try await send()
                if Backoff.isRetryable(status: answer.status) && attempt < backoff.maxAttempts {
                    for try await _ in answer.body {}
                    try await pause(seconds: backoff.delay(afterAttempt: attempt))
                    continue
                }
                if Backoff.isRetryable(status: answer.status) {
                    throw HubError.httpStatus(url: url, status: answer.status, attempts: attempt, message: await serverMessage(answer))
                }
                return answer
            } catch {
                guard isTransient(error) else { throw error }
                if attempt >= backoff.maxAttempts { throw HubError.connection(url: url, attempts: attempt, reason: describe(error)) }
                try await pause(seconds: backoff.delay(afterAttempt: attempt))
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
