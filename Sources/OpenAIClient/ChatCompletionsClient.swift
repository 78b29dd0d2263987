#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import ChatCompletions
import NIOCore
import NIOHTTP1

/// An OpenAI-compatible chat-completions client: cached replies first, then at most
/// `concurrency` requests in flight, each retried on 429, 5xx and connection errors.
///
/// The API key goes into the `Authorization` header and nowhere else: not into the cache, the
/// log lines or the errors (server messages are redacted before they are kept).
public struct ChatCompletionsClient: Sendable {
    public struct Settings: Sendable {
        /// e.g. `https://api.openai.com/v1`; requests go to `<baseURL>/chat/completions`.
        public var baseURL: String
        public var concurrency: Int
        public var retry: RetryPolicy
        /// Per request, including the reply body.
        public var timeoutSeconds: Int64
        /// For opening a connection (a refused connection waits this long before it counts as failed).
        public var connectTimeoutSeconds: Int64
        /// Who is asking ("judge", "dataset builder"): the start of log lines and error messages.
        public var service: String

        public init(baseURL: String = "https://api.openai.com/v1", concurrency: Int = 4, retry: RetryPolicy = RetryPolicy(),
                    timeoutSeconds: Int64 = 300, connectTimeoutSeconds: Int64 = 10, service: String = "openai") {
            self.baseURL = baseURL
            self.concurrency = max(1, concurrency)
            self.retry = retry
            self.timeoutSeconds = timeoutSeconds
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.service = service
        }
    }

    /// The environment variable the key is read from, as OpenAI's own clients do.
    public static let apiKeyVariable = "OPENAI_API_KEY"

    /// `OPENAI_API_KEY` from the environment; nil when unset or empty.
    public static func apiKeyFromEnvironment() -> String? {
        ProcessInfo.processInfo.environment[apiKeyVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    public let settings: Settings
    let apiKey: String?
    public let cache: ResponseCache?
    let log: @Sendable (String) -> Void
    let endpoint: String

    /// - Parameters:
    ///   - apiKey: nil is fine as long as every request is cached.
    ///   - cache: nil asks every time.
    ///   - log: request counts and retry notices (never with the key).
    public init(settings: Settings, apiKey: String?, cache: ResponseCache?, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        var base = settings.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let scheme = base.hasPrefix("https://") ? "https://" : base.hasPrefix("http://") ? "http://" : nil
        guard let scheme, base.count > scheme.count else {
            throw ChatClientError(service: settings.service, .invalidBaseURL(settings.baseURL))
        }
        self.settings = settings
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.cache = cache
        self.log = log
        endpoint = base + "/chat/completions"
    }

    /// The reply text to each request, in order. `labels` name the requests (one each) in log
    /// lines and errors. Throws when a request fails for good; replies already received are in
    /// the cache by then.
    public func complete(_ requests: [ChatRequest], labels: [String]) async throws -> [String] {
        precondition(labels.count == requests.count, "one label per request")
        let service = settings.service
        var replies = [String?](repeating: nil, count: requests.count)
        var misses: [Int] = []
        for (index, request) in requests.enumerated() {
            if let hit = try await cache?.lookup(request) { replies[index] = hit } else { misses.append(index) }
        }
        let cached = requests.count - misses.count
        if misses.isEmpty {
            log("\(service): all \(requests.count) replies cached")
            return replies.map { $0 ?? "" }
        }
        let models = Set(misses.map { requests[$0].model }).sorted().joined(separator: ", ")
        log("\(service): asking \(models) \(misses.count) request(s), \(cached) cached")
        guard let apiKey else {
            throw ChatClientError(service: service, .missingAPIKey(label: labels[misses[0]], uncached: misses.count))
        }

        // One client per batch, shut down before returning, so no connection outlives the call.
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow  // never forward the key to another host
        configuration.timeout.connect = .seconds(settings.connectTimeoutSeconds)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var next = 0
                func launch() {
                    let index = misses[next]
                    next += 1
                    group.addTask {
                        let reply = try await self.send(requests[index], label: labels[index], apiKey: apiKey, client: client)
                        try await self.cache?.store(requests[index], reply: reply)
                        return (index, reply)
                    }
                }
                while next < misses.count && next < settings.concurrency { launch() }
                var done = 0
                let every = max(10, misses.count / 10)
                while let (index, reply) = try await group.next() {
                    replies[index] = reply
                    done += 1
                    if done % every == 0 && done < misses.count { log("\(service): \(done)/\(misses.count) replied") }
                    if next < misses.count { launch() }
                }
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return replies.map { $0 ?? "" }
    }

    /// One request with its retries.
    func send(_ request: ChatRequest, label: String, apiKey: String, client: HTTPClient) async throws -> String {
        let service = settings.service
        var http = HTTPClientRequest(url: endpoint)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        http.body = .bytes(ByteBuffer(bytes: try request.encoded()))
        var attempt = 0
        while true {
            attempt += 1
            let status: Int
            let body: [UInt8]
            let retryAfter: String?
            do {
                let response = try await client.execute(http, timeout: .seconds(settings.timeoutSeconds))
                status = Int(response.status.code)
                retryAfter = response.headers.first(name: "retry-after")
                var buffer = try await response.body.collect(upTo: 32 << 20)
                body = buffer.readBytes(length: buffer.readableBytes) ?? []
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let reason = redact("\(error)", apiKey)
                guard attempt < settings.retry.maxAttempts else {
                    throw ChatClientError(service: service, .connection(label: label, attempts: attempt, reason: reason))
                }
                let wait = settings.retry.delay(afterAttempt: attempt, retryAfter: nil)
                log("\(service): \(label): \(reason); retrying in \(wait)s (attempt \(attempt + 1)/\(settings.retry.maxAttempts))")
                try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
                continue
            }
            if (200...299).contains(status) {
                switch ChatResponse.text(from: body) {
                case let .success(text): return text
                case let .failure(problem):
                    throw ChatClientError(service: service, .malformedReply(label: label, reason: redact(problem.reason, apiKey)))
                }
            }
            let message = redact(serverMessage(body), apiKey)
            guard RetryPolicy.isRetryable(status: status), attempt < settings.retry.maxAttempts else {
                throw ChatClientError(service: service, .httpStatus(label: label, status: status, attempts: attempt, message: message))
            }
            let wait = settings.retry.delay(afterAttempt: attempt, retryAfter: retryAfter)
            log("\(service): \(label): HTTP \(status); retrying in \(wait)s (attempt \(attempt + 1)/\(settings.retry.maxAttempts))")
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
    }
}

/// `text` with every occurrence of the key replaced (servers echo parts of bad keys back).
func redact(_ text: String, _ key: String) -> String {
    guard !key.isEmpty else { return text }
    var out = ""
    var rest = Substring(text)
    while let range = rest.firstRange(of: key) {
        out += rest[..<range.lowerBound]
        out += "[redacted]"
        rest = rest[range.upperBound...]
    }
    return out + rest
}
