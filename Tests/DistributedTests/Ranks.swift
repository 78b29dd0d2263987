import Foundation

/// Starts the ranks of a multi-process scenario: the `svco-dist-worker` test helper (or `svco`)
/// SwiftPM built beside the tests, one process per rank with torchrun's environment on 127.0.0.1.
enum Ranks {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func executable(_ name: String) -> String {
        let products = Bundle.main.bundleURL.deletingLastPathComponent().path
        for candidate in [products + "/" + name, root + "/.build/debug/" + name] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return root + "/.build/debug/" + name
    }

    static var worker: String { executable("svco-dist-worker") }
    static var svco: String { ProcessInfo.processInfo.environment["SVCO_BINARY"] ?? executable("svco") }

    struct Output {
        var status: Int32
        var reason: Process.TerminationReason
        var text: String

        /// `RESULT name v1,v2,...` lines by name.
        var results: [String: [Double]] {
            var out: [String: [Double]] = [:]
            for line in text.split(separator: "\n") where line.hasPrefix("RESULT ") {
                let parts = line.split(separator: " ")
                guard parts.count == 3 else { continue }
                out[String(parts[1])] = parts[2].split(separator: ",").compactMap { Double($0) }
            }
            return out
        }
    }

    /// A port nothing listens on now, below the kernel's ephemeral range: a port the kernel hands out
    /// for port 0 could be handed again to another test's server or connection before the ranks bind
    /// it (seen as a rare "already in use" under load); one picked at random below the range is not.
    static func freePort() -> Int {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) } ?? []
        let ephemeralStart = range.first ?? 32768
        let candidates = ephemeralStart > 12_000 ? 10_000..<ephemeralStart : 20_000..<30_000
        for _ in 0..<200 {
            let port = Int.random(in: candidates)
            if canBind(port) { return port }
        }
        return 0
    }

    static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func environment(_ extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in ["RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE"] {
            env.removeValue(forKey: key)
        }
        env["OMP_NUM_THREADS"] = "1"
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Starts `program` with its output going to a fresh temporary file.
    static func start(_ program: String, _ arguments: [String], environment extra: [String: String]) throws -> (Process, String) {
        let log = NSTemporaryDirectory() + "svco-dist-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = environment(extra)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        return (process, log)
    }

    /// Waits for `process` — at most `limit`, then kills it (a hang must fail the test, not stall CI).
    static func finish(_ process: Process, _ log: String, limit: Duration = .seconds(120)) -> Output {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while process.isRunning && clock.now < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: log)
        return Output(status: process.terminationStatus, reason: process.terminationReason, text: text)
    }

    /// Runs `arguments` of `program` once and returns its status and combined output.
    static func run(_ program: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Output {
        let (process, log) = try start(program, arguments, environment: extra)
        return finish(process, log)
    }

    /// Runs `world` ranks of a worker scenario at once (all started before any is waited for) and
    /// returns their outputs in rank order.
    static func spawn(_ world: Int, _ arguments: [String], timeoutMs: Int = 20_000, port: Int? = nil) throws -> [Output] {
        let port = port ?? freePort()
        let started = try (0..<world).map { rank in
            try start(worker, arguments, environment: [
                "RANK": String(rank), "WORLD_SIZE": String(world), "LOCAL_RANK": String(rank), "LOCAL_WORLD_SIZE": String(world),
                "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": String(port), "WORKER_TIMEOUT_MS": String(timeoutMs),
            ])
        }
        return started.map { finish($0.0, $0.1) }
    }
}
