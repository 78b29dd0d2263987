import JSONLiteral
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request as the fake server saw it.
public struct FakeRequest: Sendable {
    public var method: String
    public var uri: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What the fake server answers: a status, a body, extra headers, an optional delay; or it drops
/// the connection without answering.
public struct FakeResponse: Sendable {
    public var status: Int
    public var body: String
    public var headers: [(name: String, value: String)]
    public var delayMilliseconds: Int64
    public var dropConnection: Bool

    public init(status: Int = 200, body: String, headers: [(name: String, value: String)] = [], delayMilliseconds: Int64 = 0,
                dropConnection: Bool = false) {
        self.status = status
        self.body = body
        self.headers = headers
        self.delayMilliseconds = delayMilliseconds
        self.dropConnection = dropConnection
    }

    /// A chat-completions success whose first choice says `content`.
    public static func chat(_ content: String, delayMilliseconds: Int64 = 0) -> FakeResponse {
        let body = #"{"id":"chatcmpl-fake","object":"chat.completion","model":"fake","choices":[{"index":0,"message":{"role":"assistant","content":"#
            + jsonStringLiteral(content) + #"},"finish_reason":"stop"}]}"#
        return FakeResponse(body: body, headers: [("Content-Type", "application/json")], delayMilliseconds: delayMilliseconds)
    }
}

/// An OpenAI-compatible server on 127.0.0.1 (a free port) for tests: every request is recorded
/// and answered by `respond(request, index)` (index counts from 0 in arrival order).
public final class FakeJudgeServer: Sendable {
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let state: NIOLockedValueBox<State>

    struct State {
        var requests: [FakeRequest] = []
        var inFlight = 0
        var maxInFlight = 0
    }

    public init(respond: @escaping @Sendable (FakeRequest, Int) -> FakeResponse) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let state = NIOLockedValueBox(State())
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state, respond: respond))
                }
            }
        do {
            channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.state = state
        port = channel.localAddress?.port ?? 0
    }

    /// `http://127.0.0.1:PORT/v1`, for `--judge-base-url`.
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    public var requests: [FakeRequest] { state.withLockedValue { $0.requests } }
    public var requestCount: Int { state.withLockedValue { $0.requests.count } }
    /// The most requests that were being answered at once.
    public var maxInFlight: Int { state.withLockedValue { $0.maxInFlight } }

    public func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let state: NIOLockedValueBox<State>
        let respond: @Sendable (FakeRequest, Int) -> FakeResponse
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(state: NIOLockedValueBox<State>, respond: @escaping @Sendable (FakeRequest, Int) -> FakeResponse) {
            self.state = state
            self.respond = respond
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(h):
                head = h
                body = []
            case var .body(buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = FakeRequest(method: "\(head.method)", uri: head.uri,
                                          headers: head.headers.map { ($0.name, $0.value) }, body: body)
                let index = state.withLockedValue { s -> Int in
                    s.requests.append(request)
                    s.inFlight += 1
                    s.maxInFlight = max(s.maxInFlight, s.inFlight)
                    return s.requests.count - 1
                }
                let response = respond(request, index)
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                if response.delayMilliseconds > 0 {
                    context.eventLoop.scheduleTask(in: .milliseconds(response.delayMilliseconds)) {
                        bound.value.0.answer(response, context: bound.value.1)
                    }
                } else {
                    answer(response, context: context)
                }
            }
        }

        func answer(_ response: FakeResponse, context: ChannelHandlerContext) {
            state.withLockedValue { $0.inFlight -= 1 }
            if response.dropConnection {
                context.close(promise: nil)
                return
            }
            var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
            let bytes = Array(response.body.utf8)
            headers.replaceOrAdd(name: "Content-Length", value: String(bytes.count))
            headers.replaceOrAdd(name: "Connection", value: "close")
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}
