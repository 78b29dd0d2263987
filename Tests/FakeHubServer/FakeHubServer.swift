import Hub
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// One file of a fake repository.
public struct FakeFile: Sendable {
    public var content: [UInt8]
    /// LFS files are answered with a 302 to the CDN and named by their sha256, as on the Hub.
    public var lfs: Bool
    public init(_ content: [UInt8], lfs: Bool = false) { self.content = content; self.lfs = lfs }
    public init(_ text: String, lfs: Bool = false) { self.init(Array(text.utf8), lfs: lfs) }
    public var sha256: String { SHA256.hash(content) }
    public var gitBlobID: String { SHA1.gitBlobID(content) }
}

/// A fake repository at one commit.
public struct FakeRepo: Sendable {
    public var type: String  // "model" or "dataset"
    public var id: String
    public var commit: String
    public var branches: [String: String]
    public var files: [String: FakeFile]
    /// Requests without `Authorization: Bearer <token>` get 401.
    public var token: String?

    public init(type: String = "model", id: String, commit: String, branches: [String: String] = [:], files: [String: FakeFile],
                token: String? = nil) {
        self.type = type
        self.id = id
        self.commit = commit
        self.branches = branches.isEmpty ? ["main": commit] : branches
        self.files = files
        self.token = token
    }
}

/// A request as a fake server saw it.
public struct SeenRequest: Sendable {
    public var server: String  // "hub" or "cdn"
    public var method: String
    public var uri: String
    public var authorization: String?
    public var range: String?
}

/// A fake Hugging Face Hub on 127.0.0.1 for tests, speaking the protocol huggingface_hub uses, with
/// the Hub's real headers: `GET /api/{models|datasets}/REPO/revision/REV`, `HEAD|GET
/// /[datasets/]REPO/resolve/REV/PATH` (`X-Repo-Commit`, `ETag`, `X-Linked-Etag`, `X-Linked-Size`,
/// `X-Error-Code`), LFS files redirected to a "CDN" on another port that honours `Range`
/// (`Content-Range`, 206). The CDN also serves plain files (`files`) for the dataset fetch tests.
/// Faults: `dropAfter[path] = n` closes the connection after n body bytes (once per path);
/// `corrupt` flips a byte of those files on every answer; `failStatus[path] = (status, times)`.
public final class FakeHubServer: Sendable {
    struct State {
        var repos: [FakeRepo] = []
        var files: [String: [UInt8]] = [:]
        var dropAfter: [String: Int] = [:]
        var corrupt: Set<String> = []
        var failStatus: [String: (Int, Int)] = [:]
        var requests: [SeenRequest] = []
    }

    private let state: NIOLockedValueBox<State>
    private let group: MultiThreadedEventLoopGroup
    private let hubChannel: any Channel
    private let cdnChannel: any Channel
    public let hubPort: Int
    public let cdnPort: Int

    public init(repos: [FakeRepo] = [], files: [String: [UInt8]] = [:]) throws {
        let state = NIOLockedValueBox(State())
        state.withLockedValue { $0.repos = repos; $0.files = files }
        self.state = state
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        func bind(_ role: String, cdnPort: @escaping @Sendable () -> Int) throws -> any Channel {
            try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(Handler(role: role, state: state, cdnPort: cdnPort))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
        }
        do {
            let cdn = try bind("cdn", cdnPort: { 0 })
            let cdnPort = cdn.localAddress?.port ?? 0
            cdnChannel = cdn
            let hub = try bind("hub", cdnPort: { cdnPort })
            hubChannel = hub
            self.cdnPort = cdnPort
            hubPort = hub.localAddress?.port ?? 0
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    public var endpoint: String { "http://127.0.0.1:\(hubPort)" }
    public var cdnBase: String { "http://127.0.0.1:\(cdnPort)" }
    public var requests: [SeenRequest] { state.withLockedValue { $0.requests } }

    public func setRepos(_ repos: [FakeRepo]) { state.withLockedValue { $0.repos = repos } }
    public func setFile(_ path: String, _ bytes: [UInt8]) { state.withLockedValue { $0.files[path] = bytes } }
    /// `path`: a repository file path (`config.json`) or a CDN path (`/host/file.zip`).
    public func dropConnection(path: String, afterBytes: Int) { state.withLockedValue { $0.dropAfter[path] = afterBytes } }
    public func corrupt(path: String) { state.withLockedValue { _ = $0.corrupt.insert(path) } }
    public func fail(path: String, status: Int, times: Int) { state.withLockedValue { $0.failStatus[path] = (status, times) } }
    public func clearRequests() { state.withLockedValue { $0.requests = [] } }

    public func shutdown() {
        try? hubChannel.close().wait()
        try? cdnChannel.close().wait()
        try? group.syncShutdownGracefully()
    }

    struct Reply {
        var status: Int
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        var dropAfter: Int?
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let role: String
        let state: NIOLockedValueBox<State>
        let cdnPort: @Sendable () -> Int
        var head: HTTPRequestHead?

        init(role: String, state: NIOLockedValueBox<State>, cdnPort: @escaping @Sendable () -> Int) {
            self.role = role
            self.state = state
            self.cdnPort = cdnPort
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(h): head = h
            case .body: break
            case .end:
                guard let head else { return }
                let seen = SeenRequest(server: role, method: "\(head.method)", uri: head.uri,
                                       authorization: head.headers.first(name: "Authorization"), range: head.headers.first(name: "Range"))
                let reply = state.withLockedValue { s -> Reply in
                    s.requests.append(seen)
                    return role == "hub" ? hubReply(head, &s) : cdnReply(head, &s)
                }
                send(reply, head: head, context: context)
            }
        }

        func send(_ reply: Reply, head: HTTPRequestHead, context: ChannelHandlerContext) {
            var headers = HTTPHeaders()
            for (n, v) in reply.headers { headers.add(name: n, value: v) }
            if !headers.contains(name: "Content-Length") { headers.add(name: "Content-Length", value: "\(reply.body.count)") }
            let response = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            if head.method != .HEAD && !reply.body.isEmpty {
                let bytes = reply.dropAfter.map { Array(reply.body.prefix($0)) } ?? reply.body
                if reply.dropAfter != nil {
                    // Close only once the bytes are on the wire (a close drops pending writes).
                    let channel = context.channel
                    context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(channel.allocator.buffer(bytes: bytes))))).whenComplete { _ in
                        channel.close(promise: nil)
                    }
                    return
                }
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }

        func hubReply(_ head: HTTPRequestHead, _ s: inout State) -> Reply {
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { String($0).removingPercentEncoding() }
            // /api/{models|datasets}/org/name/revision/rev
            if parts.first == "api", parts.count >= 6, parts[4] == "revision" {
                let type = parts[1] == "datasets" ? "dataset" : "model"
                let id = parts[2] + "/" + parts[3]
                let revision = parts[5...].joined(separator: "/")
                guard let repo = s.repos.first(where: { $0.type == type && $0.id == id }) else {
                    return Reply(status: 404, headers: [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Repository not found")])
                }
                if let denied = authorize(repo, head) { return denied }
                guard let commit = repo.branches[revision] ?? (repo.commit == revision ? revision : nil) else {
                    return Reply(status: 404, headers: [("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", "Invalid rev id: \(revision)")])
                }
                let siblings = repo.files.keys.sorted().map { "{\"rfilename\":\"\($0)\"}" }.joined(separator: ",")
                let body = "{\"id\":\"\(id)\",\"sha\":\"\(commit)\",\"private\":false,\"siblings\":[\(siblings)]}"
                return Reply(status: 200, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
            }
            // /[datasets/]org/name/resolve/rev/path
            var p = parts[...]
            var type = "model"
            if p.first == "datasets" { type = "dataset"; p = p.dropFirst() }
            let rest = Array(p)
            guard rest.count >= 5, rest[2] == "resolve" else { return Reply(status: 404) }
            let id = rest[0] + "/" + rest[1]
            let revision = rest[3]
            let file = rest[4...].joined(separator: "/")
            guard let repo = s.repos.first(where: { $0.type == type && $0.id == id }) else {
                return Reply(status: 401, headers: [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Repository not found")])
            }
            if let denied = authorize(repo, head) { return denied }
            guard let commit = repo.branches[revision] ?? (repo.commit == revision ? revision : nil) else {
                return Reply(status: 404, headers: [("X-Error-Code", "RevisionNotFound")])
            }
            guard let f = repo.files[file] else {
                return Reply(status: 404, headers: [("X-Error-Code", "EntryNotFound"), ("X-Repo-Commit", commit),
                                                    ("X-Error-Message", "Entry not found")])
            }
            if let (status, times) = s.failStatus[file], times > 0 {
                s.failStatus[file] = (status, times - 1)
                return Reply(status: status, body: Array("try again".utf8))
            }
            if f.lfs {
                let location = "http://127.0.0.1:\(cdnPort())/lfs/\(f.sha256)?X-Amz-Signature=fake"
                return Reply(status: 302, headers: [("Location", location), ("X-Repo-Commit", commit), ("ETag", "\"\(f.gitBlobID)\""),
                                                    ("X-Linked-Etag", "\"\(f.sha256)\""), ("X-Linked-Size", "\(f.content.count)"),
                                                    ("Content-Length", "0")])
            }
            var body = f.content
            if s.corrupt.contains(file), !body.isEmpty { body[body.count / 2] ^= 0x01 }
            var drop: Int?
            if head.method == .GET, let n = s.dropAfter[file] { drop = n; s.dropAfter[file] = nil }
            return Reply(status: 200, headers: [("X-Repo-Commit", commit), ("ETag", "\"\(f.gitBlobID)\"")], body: body, dropAfter: drop)
        }

        func authorize(_ repo: FakeRepo, _ head: HTTPRequestHead) -> Reply? {
            guard let token = repo.token else { return nil }
            let given = head.headers.first(name: "Authorization")
            if given == "Bearer " + token { return nil }
            return Reply(status: given == nil ? 401 : 403, headers: [("X-Error-Code", "GatedRepo"),
                                                                    ("X-Error-Message", "Access to this repository is restricted")])
        }

        func cdnReply(_ head: HTTPRequestHead, _ s: inout State) -> Reply {
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            var body: [UInt8]
            var key = path
            if path.hasPrefix("/lfs/") {
                let sha = String(path.dropFirst(5))
                guard let (name, file) = s.repos.lazy.flatMap({ $0.files }).first(where: { $0.value.sha256 == sha }) else {
                    return Reply(status: 404)
                }
                body = file.content
                key = name
            } else {
                let decoded = path.removingPercentEncoding()
                guard let bytes = s.files[decoded] ?? s.files[path] else { return Reply(status: 404, body: Array("no such file".utf8)) }
                body = bytes
                key = decoded
            }
            if let (status, times) = s.failStatus[key], times > 0 {
                s.failStatus[key] = (status, times - 1)
                return Reply(status: status, body: Array("try again".utf8))
            }
            if s.corrupt.contains(key), !body.isEmpty { body[body.count / 2] ^= 0x01 }
            var drop: Int?
            if head.method == .GET, let n = s.dropAfter[key] { drop = n; s.dropAfter[key] = nil }
            if let range = head.headers.first(name: "Range"), range.hasPrefix("bytes="), let dash = range.firstIndex(of: "-"),
               let start = Int(range[range.index(range.startIndex, offsetBy: 6)..<dash]) {
                guard start < body.count else {
                    return Reply(status: 416, headers: [("Content-Range", "bytes */\(body.count)")])
                }
                return Reply(status: 206, headers: [("Content-Range", "bytes \(start)-\(body.count - 1)/\(body.count)"), ("ETag", "\"x\"")],
                             body: Array(body[start...]), dropAfter: drop)
            }
            return Reply(status: 200, headers: [("ETag", "\"x\""), ("Accept-Ranges", "bytes")], body: body, dropAfter: drop)
        }
    }
}

extension String {
    /// `%20` → space (enough for the paths the tests use).
    func removingPercentEncoding() -> String {
        var out: [UInt8] = []
        var bytes = Array(utf8)[...]
        while let b = bytes.first {
            bytes = bytes.dropFirst()
            if b == UInt8(ascii: "%"), bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
