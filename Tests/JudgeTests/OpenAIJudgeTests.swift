import Evaluation
import FakeJudgeServer
import Foundation
import Testing
@testable import Judge
import ChatCompletions
@testable import OpenAIClient

/// The judge client against a fake OpenAI-compatible server on 127.0.0.1.
@Suite struct OpenAIJudgeTests {
    static let key = "sk-test-DO-NOT-LEAK-1234567890"
    static let fast = RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05)

    static func prompt(_ label: String, _ text: String = "Rate this.", temperature: Double = 0) -> JudgePrompt {
        JudgePrompt(label: label, messages: [.system("Be precise."), .user(text)], temperature: temperature, maxTokens: 3)
    }

    static func judge(_ server: FakeJudgeServer, key: String? = Self.key, cache: ResponseCache? = nil, concurrency: Int = 4,
                      retry: RetryPolicy = Self.fast) throws -> OpenAIJudge {
        let settings = ChatCompletionsClient.Settings(baseURL: server.baseURL + "/", concurrency: concurrency, retry: retry, service: "judge")
        return OpenAIJudge(model: "judge-model", client: try ChatCompletionsClient(settings: settings, apiKey: key, cache: cache))
    }

    static func error(_ kind: ChatClientError.Kind) -> ChatClientError { ChatClientError(service: "judge", kind) }

    static func temporaryFolder() -> String {
        NSTemporaryDirectory() + "svco-judge-\(UUID().uuidString)"
    }

    @Test func successSendsTheChatCompletionsRequest() async throws {
        let server = try FakeJudgeServer { _, _ in .chat("0.7 fine") }
        defer { server.shutdown() }
        let replies = try await Self.judge(server).complete([Self.prompt("mmvet v1_0")])
        #expect(replies == ["0.7 fine"])
        let request = try #require(server.requests.first)
        #expect(server.requestCount == 1 && request.method == "POST" && request.uri == "/v1/chat/completions")
        #expect(request.header("Authorization") == "Bearer \(Self.key)")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(body["model"] as? String == "judge-model" && body["temperature"] as? Double == 0 && body["max_tokens"] as? Int == 3)
        let messages = try #require(body["messages"] as? [[String: String]])
        #expect(messages == [["role": "system", "content": "Be precise."], ["role": "user", "content": "Rate this."]])
    }

    @Test func rateLimitThenSuccess() async throws {
        let server = try FakeJudgeServer { _, index in
            index == 0 ? FakeResponse(status: 429, body: #"{"error":{"message":"Rate limit reached"}}"#, headers: [("Retry-After", "0")])
                : .chat("Rating: 4")
        }
        defer { server.shutdown() }
        let replies = try await Self.judge(server).complete([Self.prompt("mmhal abc")])
        #expect(replies == ["Rating: 4"] && server.requestCount == 2)
    }

    @Test func serverErrorsUntilItGivesUp() async throws {
        let server = try FakeJudgeServer { _, _ in FakeResponse(status: 503, body: #"{"error":{"message":"overloaded"}}"#) }
        defer { server.shutdown() }
        await #expect(throws: Self.error(.httpStatus(label: "mmvet v1_3", status: 503, attempts: 3, message: "overloaded"))) {
            try await Self.judge(server).complete([Self.prompt("mmvet v1_3")])
        }
        #expect(server.requestCount == 3)
        let text = Self.error(.httpStatus(label: "mmvet v1_3", status: 503, attempts: 3, message: "overloaded")).localizedDescription
        #expect(text == "judge: mmvet v1_3: HTTP 503 after 3 attempts: overloaded")
    }

    @Test func clientErrorsAreNotRetriedAndNeverShowTheKey() async throws {
        let server = try FakeJudgeServer { request, _ in
            // Servers echo (parts of) a bad key back in their message.
            FakeResponse(status: 401, body: #"{"error":{"message":"Incorrect API key provided: \#(Self.key)."}}"#)
        }
        defer { server.shutdown() }
        do {
            _ = try await Self.judge(server).complete([Self.prompt("llavabench 7")])
            Issue.record("no error")
        } catch let error as ChatClientError {
            #expect(error == Self.error(.httpStatus(label: "llavabench 7", status: 401, attempts: 1, message: "Incorrect API key provided: [redacted].")))
            #expect(!error.localizedDescription.contains(Self.key))
        }
        #expect(server.requestCount == 1)
    }

    @Test(arguments: [
        ("not json at all", "not a chat-completions JSON object (invalid JSON)"),
        (#"{"choices": []}"#, "'choices' is empty"),
        (#"{"object": "chat.completion"}"#, "no 'choices'"),
        (#"{"choices": [{"message": {"role": "assistant", "content": null}}]}"#, "'choices[0].message.content' is missing or null"),
        (#"{"choices": "x"}"#, "not a chat-completions JSON object (wrong type at 'choices')"),
    ])
    func malformedRepliesAreClearErrors(body: String, reason: String) async throws {
        let server = try FakeJudgeServer { _, _ in FakeResponse(status: 200, body: body) }
        defer { server.shutdown() }
        await #expect(throws: Self.error(.malformedReply(label: "mmhal q1", reason: reason))) {
            try await Self.judge(server).complete([Self.prompt("mmhal q1")])
        }
        #expect(server.requestCount == 1)
    }

    @Test func cacheHitOnRerunMakesNoRequests() async throws {
        let server = try FakeJudgeServer { request, _ in .chat("reply to " + (request.bodyText.contains("second") ? "second" : "first")) }
        defer { server.shutdown() }
        let folder = Self.temporaryFolder()
        let prompts = [Self.prompt("a", "first"), Self.prompt("b", "second")]
        let first = try await Self.judge(server, cache: ResponseCache(directory: folder)).complete(prompts)
        #expect(first == ["reply to first", "reply to second"] && server.requestCount == 2)
        // A new client on the same folder, without a key: everything comes from the cache.
        let again = try await Self.judge(server, key: nil, cache: ResponseCache(directory: folder)).complete(prompts)
        #expect(again == first && server.requestCount == 2)
        // The key is the whole request: another temperature is another entry.
        let warmer = try await Self.judge(server, cache: ResponseCache(directory: folder)).complete([Self.prompt("a", "first", temperature: 0.5)])
        #expect(warmer == ["reply to first"] && server.requestCount == 3)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }
        #expect(files.count == 3)
        for file in files {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            #expect(!text.contains(Self.key) && text.contains("\"model\" : \"judge-model\""))
        }
    }

    @Test func missingKeyFailsBeforeAnyRequest() async throws {
        let server = try FakeJudgeServer { _, _ in .chat("x") }
        defer { server.shutdown() }
        await #expect(throws: Self.error(.missingAPIKey(label: "mmvet v1_0", uncached: 2))) {
            try await Self.judge(server, key: nil).complete([Self.prompt("mmvet v1_0"), Self.prompt("mmvet v1_1", "other")])
        }
        #expect(server.requestCount == 0)
    }

    @Test func concurrencyIsLimitedAndOrderKept() async throws {
        let server = try FakeJudgeServer { request, _ in
            let n = request.bodyText.components(separatedBy: "question ").last?.prefix { $0.isNumber } ?? "?"
            return .chat("answer \(n)", delayMilliseconds: 60)
        }
        defer { server.shutdown() }
        let prompts = (0..<9).map { Self.prompt("q\($0)", "question \($0)") }
        let replies = try await Self.judge(server, concurrency: 3).complete(prompts)
        #expect(replies == (0..<9).map { "answer \($0)" })
        #expect(server.requestCount == 9 && server.maxInFlight == 3)
    }

    @Test func connectionErrorsAreRetriedThenReported() async throws {
        let refusing = try RefusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let settings = ChatCompletionsClient.Settings(baseURL: refusing.baseURL, retry: Self.fast, connectTimeoutSeconds: 1, service: "judge")
        let judge = OpenAIJudge(model: "m", client: try ChatCompletionsClient(settings: settings, apiKey: Self.key, cache: nil))
        do {
            _ = try await judge.complete([Self.prompt("mmvet v1_9")])
            Issue.record("no error")
        } catch let error as ChatClientError {
            guard case let .connection(label, attempts, _) = error.kind else { Issue.record("\(error)"); return }
            #expect(label == "mmvet v1_9" && attempts == 3)
        }
    }

    @Test func droppedConnectionIsRetried() async throws {
        let server = try FakeJudgeServer { _, index in index == 0 ? FakeResponse(body: "", dropConnection: true) : .chat("0.9") }
        defer { server.shutdown() }
        let replies = try await Self.judge(server).complete([Self.prompt("mmvet v1_2")])
        #expect(replies == ["0.9"] && server.requestCount == 2)
    }

    @Test(arguments: ["api.openai.com/v1", "https://", "ftp://host/v1", ""])
    func invalidBaseURLIsRejected(url: String) {
        #expect(throws: ChatClientError(service: "openai", .invalidBaseURL(url))) {
            try ChatCompletionsClient(settings: .init(baseURL: url), apiKey: nil, cache: nil)
        }
    }
}

/// The client on its own, as dataset building uses it: any model per request, its own service
/// name in log lines and errors, replies in request order.
@Suite struct ChatCompletionsClientTests {
    @Test func requestsOfSeveralModelsWithTheirLabels() async throws {
        let server = try FakeJudgeServer { request, _ in
            .chat(request.bodyText.contains(#""model":"rewriter-b""#) ? "from b" : "from a")
        }
        defer { server.shutdown() }
        let lines = LogLines()
        let client = try ChatCompletionsClient(
            settings: .init(baseURL: server.baseURL, retry: OpenAIJudgeTests.fast, service: "dataset builder"),
            apiKey: OpenAIJudgeTests.key, cache: nil, log: { lines.append($0) })
        let requests = [ChatRequest(model: "rewriter-a", messages: [.user("one")], temperature: 1),
                        ChatRequest(model: "rewriter-b", messages: [.system("s"), .user("two")], temperature: 0.7, maxTokens: 50)]
        #expect(try await client.complete(requests, labels: ["pair 1", "pair 2"]) == ["from a", "from b"])
        #expect(lines.all == ["dataset builder: asking rewriter-a, rewriter-b 2 request(s), 0 cached"])
        let bodies = try server.requests.map { try #require(try JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any]) }
        let b = try #require(bodies.first { $0["model"] as? String == "rewriter-b" })
        let a = try #require(bodies.first { $0["model"] as? String == "rewriter-a" })
        #expect(b["max_tokens"] as? Int == 50 && b["temperature"] as? Double == 0.7 && a["max_tokens"] == nil)
        await #expect(throws: ChatClientError(service: "dataset builder", .missingAPIKey(label: "pair 1", uncached: 1))) {
            try await ChatCompletionsClient(settings: .init(baseURL: server.baseURL, service: "dataset builder"), apiKey: nil, cache: nil)
                .complete([ChatRequest(model: "m", messages: [.user("x")], temperature: 0)], labels: ["pair 1"])
        }
    }
}

/// Log lines collected from the client's tasks.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

@Suite struct RetryPolicyTests {
    @Test func backoffDoublesUpToTheCapAndHonoursRetryAfter() {
        let p = RetryPolicy(maxAttempts: 8, baseDelay: 1, maxDelay: 10, maxRetryAfter: 30)
        #expect((1...6).map { p.delay(afterAttempt: $0, retryAfter: nil) } == [1, 2, 4, 8, 10, 10])
        #expect(p.delay(afterAttempt: 1, retryAfter: "7") == 7)
        #expect(p.delay(afterAttempt: 1, retryAfter: " 2.5 ") == 2.5)
        #expect(p.delay(afterAttempt: 1, retryAfter: "600") == 30)
        #expect(p.delay(afterAttempt: 3, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT") == 4)
        #expect(p.delay(afterAttempt: 2, retryAfter: "-1") == 2)
        #expect(RetryPolicy.isRetryable(status: 429) && RetryPolicy.isRetryable(status: 500) && RetryPolicy.isRetryable(status: 599))
        #expect(!RetryPolicy.isRetryable(status: 400) && !RetryPolicy.isRetryable(status: 401) && !RetryPolicy.isRetryable(status: 404))
    }
}

@Suite struct ResponseCacheTests {
    static func request(_ text: String, model: String = "m") -> ChatRequest {
        ChatRequest(model: model, prompt: JudgePrompt(label: "x", messages: [.user(text)], temperature: 0, maxTokens: nil))
    }

    @Test func aCollidingEntryMovesToTheNextSlot() async throws {
        let folder = NSTemporaryDirectory() + "svco-judge-cache-\(UUID().uuidString)"
        let cache = ResponseCache(directory: folder)
        let a = Self.request("a"), b = Self.request("b")
        try await cache.store(a, reply: "reply a")
        // Put a's entry where b's hash points, as a collision would.
        let hashA = ResponseCache.hexHash(try a.encoded()), hashB = ResponseCache.hexHash(try b.encoded())
        try FileManager.default.moveItem(atPath: "\(folder)/\(hashA).json", toPath: "\(folder)/\(hashB).json")
        #expect(try await cache.lookup(b) == nil)
        try await cache.store(b, reply: "reply b")
        #expect(FileManager.default.fileExists(atPath: "\(folder)/\(hashB)-1.json"))
        #expect(try await cache.lookup(b) == "reply b")
        // The model is part of the key.
        #expect(try await cache.lookup(Self.request("b", model: "other")) == nil)
    }

    @Test func aDamagedEntryIsAClearError() async throws {
        let folder = NSTemporaryDirectory() + "svco-judge-cache-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let r = Self.request("q")
        let path = "\(folder)/\(ResponseCache.hexHash(try r.encoded())).json"
        try "{\"request\": ".write(toFile: path, atomically: true, encoding: .utf8)
        await #expect(throws: ResponseCacheError(path: path, reason: "not a reply cache entry (delete the file to ask again)")) {
            try await ResponseCache(directory: folder).lookup(r)
        }
    }

    @Test func fnvHashMatchesTheReferenceVectors() {
        // FNV-1a 64 test vectors (Fowler/Noll/Vo): "" and "a".
        #expect(ResponseCache.hexHash([]) == "cbf29ce484222325")
        #expect(ResponseCache.hexHash(Array("a".utf8)) == "af63dc4c8601ec8c")
    }
}
