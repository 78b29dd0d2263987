import AsyncHTTPClient
import NIOCore
import NIOHTTP1
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which redirects a request follows.
public enum RedirectPolicy: Sendable {
    /// None: the 3xx answer is returned (the Hub's HEAD on an LFS file carries its metadata on the 302).
    case none
    /// Only `Location`s on the same host (the Hub's answer for a renamed repository).
    case sameHostOnly
    /// Any, up to 10 hops.
    case all
}

/// Retries: exponential backoff from `baseDelay` (doubling, capped at `maxDelay`) for at most
/// `maxAttempts` tries in a row without progress.
public struct Backoff: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 6, baseDelay: Double = 1, maxDelay: Double = 30) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Seconds to wait after failed attempt `attempt` (1-based).
    public func delay(afterAttempt attempt: Int) -> Double {
        var d = baseDelay
        for _ in 1..<max(1, attempt) { d *= 2 }
        return min(d, maxDelay)
    }

    /// 429 and 5xx are worth another try; other statuses are not.
    public static func isRetryable(status: Int) -> Bool { status == 408 || status == 429 || (500...599).contains(status) }
}

/// An HTTP answer whose body has not been read yet.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The URL that answered (after the redirects followed).
    public var url: String
    public var body: HTTPClientResponse.Body

    public func header(_ name: String) -> String? { headers.first(name: name) }

    /// Reads the whole body (for API answers and error messages), at most `limit` bytes.
    public func collect(limit: Int = 64 << 20) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await var chunk in body {
            out += chunk.readBytes(length: chunk.readableBytes) ?? []
            if out.count > limit { throw HubError.badResponse(url: url, reason: "answer larger than \(limit) bytes") }
        }
        return out
    }
}

/// HTTP on AsyncHTTPClient with the redirect handling downloads need: redirects are followed here,
/// not by the client, so that the `Authorization` header only ever goes to the host it was meant for
/// (a Hub token never reaches the CDN that serves large files).
public final class HTTPTransport: Sendable {
    let client: HTTPClient
    public let userAgent: String

    /// `readTimeout`: the longest wait for the next bytes of an answer before the connection counts
    /// as dropped (and the download resumes).
    public init(connectTimeout: Int64 = 20, readTimeout: Int64 = 60, userAgent: String = "svco/0.1") {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout.connect = .seconds(connectTimeout)
        configuration.timeout.read = .seconds(readTimeout)
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.userAgent = userAgent
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    /// Sends one request, following redirects as `redirects` allows. `authorization` (a whole header
    /// value) is sent to `url`'s host and to no other host.
    public func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], authorization: String? = nil,
                     redirects: RedirectPolicy, headTimeout: Int64 = 60) async throws -> HTTPAnswer {
        let authorizedHost = Self.host(of: url)
        var current = url
        guard authorizedHost != nil, url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw HubError.badResponse(url: url, reason: "not an http:// or https:// URL")
        }
        for _ in 0..<10 {
            var request = HTTPClientRequest(url: current)
            request.method = method
            request.headers.add(name: "User-Agent", value: userAgent)
            request.headers.add(name: "Accept-Encoding", value: "identity")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let authorization, Self.host(of: current) == authorizedHost {
                request.headers.add(name: "Authorization", value: authorization)
            }
            let response = try await client.execute(request, timeout: .seconds(headTimeout))
            let status = Int(response.status.code)
            if (300...399).contains(status), status != 304, let location = response.headers.first(name: "Location") {
                guard let next = Self.resolve(location, against: current) else {
                    throw HubError.badResponse(url: current, reason: "redirect to an invalid Location")
                }
                let follow: Bool
                switch redirects {
                case .none: follow = false
                case .sameHostOnly: follow = Self.host(of: next) == Self.host(of: current)
                case .all: follow = true
                }
                if follow {
                    // Drain the redirect's body so the connection can be reused.
                    for try await _ in response.body {}
                    current = next
                    continue
                }
            }
            return HTTPAnswer(status: status, headers: response.headers, url: current, body: response.body)
        }
        throw HubError.badResponse(url: url, reason: "more than 10 redirects")
    }

    /// `scheme://host:port` of a URL (lower-cased), the unit a credential is scoped to.
    static func host(of url: String) -> String? {
        guard let u = URL(string: url), let host = u.host else { return nil }
        let scheme = (u.scheme ?? "").lowercased()
        let port = u.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host.lowercased()):\(port)"
    }

    /// A `Location` header made absolute.
    static func resolve(_ location: String, against base: String) -> String? {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let b = URL(string: base), let u = URL(string: location, relativeTo: b) else { return nil }
        return u.absoluteString
    }
}

/// Error text for an unsuccessful answer: `X-Error-Message` or the body's JSON `error`, else the
/// start of the body.
func serverMessage(_ answer: HTTPAnswer) async -> String {
    if let m = answer.header("X-Error-Message"), !m.isEmpty { return m }
    guard let bytes = try? await answer.collect(limit: 1 << 16) else { return "" }
    struct ErrorBody: Decodable { var error: String? }
    if let e = (try? JSONDecoder().decode(ErrorBody.self, from: Data(bytes)))?.error { return e }
    let text = String(decoding: bytes.prefix(200), as: UTF8.self).trimmed()
    return text.hasPrefix("<") ? "" : text
}

/// Turns a failed status into the error it means. `what` names the thing asked for.
func statusError(_ answer: HTTPAnswer, what: String, hadToken: Bool, attempts: Int = 1) async -> HubError {
    let message = await serverMessage(answer)
    switch answer.status {
    case 404: return .notFound(url: answer.url, what: what)
    case 401, 403: return .unauthorized(url: answer.url, status: answer.status, hadToken: hadToken, message: message)
    default: return .httpStatus(url: answer.url, status: answer.status, attempts: attempts, message: message)
    }
}

/// Whether an error is a network failure worth retrying (as opposed to one of ours).
func isTransient(_ error: Error) -> Bool {
    if error is HubError { return false }
    if error is CancellationError { return false }
    return true
}

func describe(_ error: Error) -> String {
    if let e = error as? HTTPClientError { return "\(e)" }
    if let e = error as? IOError { return e.description }
    return "\(error)"
}

/// Sleeps without blocking a thread.
func pause(seconds: Double) async throws {
    if seconds > 0 { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
}
