#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Signals the launcher received and has yet to forward (set from the signal handler).
nonisolated(unsafe) private var pendingSignal: sig_atomic_t = 0

/// `svco launch`'s engine: starts this node's ranks of a job with torchrun's environment, forwards
/// SIGINT/SIGTERM/SIGHUP to them, and when one rank fails, ends the others and reports which rank
/// failed and how. Each rank runs in its own process group, so a forwarded signal reaches the
/// processes it started too.
public struct Launcher: Sendable {
    public var processesPerNode: Int
    public var nodes: Int
    public var nodeRank: Int
    public var masterAddress: String
    public var masterPort: Int
    /// How long the other ranks get to exit after SIGTERM before SIGKILL.
    public var gracePeriod: Duration

    public init(processesPerNode: Int, nodes: Int = 1, nodeRank: Int = 0, masterAddress: String = "127.0.0.1",
                masterPort: Int = LaunchEnvironment.defaultPort, gracePeriod: Duration = .seconds(10)) {
        self.processesPerNode = processesPerNode
        self.nodes = nodes
        self.nodeRank = nodeRank
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.gracePeriod = gracePeriod
    }

    /// How the job ended.
    public enum Outcome: Sendable, Equatable {
        /// Every local rank exited with status 0.
        case succeeded
        /// `rank` failed first: exited with `status`, or was killed by `signal`.
        case rankFailed(rank: Int, localRank: Int, pid: Int32, status: Int32?, signal: Int32?)
        /// The launcher was asked to stop; the signal was forwarded to every rank.
        case interrupted(signal: Int32)

        /// The launcher's exit status: 0, 1 for a failed rank, 128 + signal when interrupted.
        public var exitStatus: Int32 {
            switch self {
            case .succeeded: 0
            case .rankFailed: 1
            case .interrupted(let signal): 128 + signal
            }
        }

        public var message: String? {
            switch self {
            case .succeeded: nil
            case .rankFailed(let rank, let localRank, let pid, let status, let signal):
                if let signal {
                    "rank \(rank) (local rank \(localRank), pid \(pid)) was killed by signal \(signal) (\(signalName(signal))); the other ranks were stopped"
                } else {
                    "rank \(rank) (local rank \(localRank), pid \(pid)) exited with status \(status ?? -1); the other ranks were stopped"
                }
            case .interrupted(let signal): "interrupted by \(signalName(signal)); forwarded to every rank"
            }
        }
    }

    /// Checks the flags, naming the one at fault.
    public func validate() throws {
        guard processesPerNode >= 1 else { throw DistributedError.launch(reason: "--nproc-per-node must be at least 1, got \(processesPerNode)") }
        guard nodes >= 1 else { throw DistributedError.launch(reason: "--nnodes must be at least 1, got \(nodes)") }
        guard (0..<nodes).contains(nodeRank) else { throw DistributedError.launch(reason: "--node-rank \(nodeRank) is not in 0..<--nnodes (\(nodes))") }
        guard (1...65535).contains(masterPort) else { throw DistributedError.launch(reason: "--master-port \(masterPort) is not in 1...65535") }
        guard !masterAddress.isEmpty else { throw DistributedError.launch(reason: "--master-addr is empty") }
    }

    /// The environment of local rank `localRank` on this node.
    public func environment(localRank: Int) -> LaunchEnvironment {
        LaunchEnvironment(rank: nodeRank * processesPerNode + localRank, worldSize: nodes * processesPerNode, localRank: localRank,
                          localWorldSize: processesPerNode, masterAddress: masterAddress, masterPort: masterPort)
    }

    /// Runs `command` (an executable found on PATH, then its arguments) once per local rank and waits
    /// for all of them. Throws when the port is taken (node 0) or a rank cannot be started.
    public func run(_ command: [String]) throws -> Outcome {
        try validate()
        guard let program = command.first else { throw DistributedError.launch(reason: "no command given after --") }
        if nodeRank == 0 { try Self.checkPortFree(masterPort, host: masterAddress) }

        installForwarding()
        var children: [(pid: pid_t, localRank: Int)] = []
        let inherited = LaunchEnvironment.processEnvironment()
        for local in 0..<processesPerNode {
            var env = inherited
            for (k, v) in environment(localRank: local).variables { env[k] = v }
            do {
                children.append((try Self.spawn(program, arguments: command, environment: env), local))
            } catch {
                for child in children { kill(-child.pid, SIGKILL) }
                for child in children { var s: Int32 = 0; _ = waitpid(child.pid, &s, 0) }
                throw error
            }
        }

        var running = Dictionary(uniqueKeysWithValues: children.map { ($0.pid, $0.localRank) })
        var outcome = Outcome.succeeded
        var stopDeadline: ContinuousClock.Instant?
        let clock = ContinuousClock()
        while !running.isEmpty {
            let signal = pendingSignal
            if signal != 0 {
                pendingSignal = 0
                for pid in running.keys { kill(-pid, signal) }
                if case .succeeded = outcome { outcome = .interrupted(signal: signal) }
                if stopDeadline == nil { stopDeadline = clock.now + gracePeriod }
            }
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0, let local = running.removeValue(forKey: pid) {
                let exited = (status & 0x7f) == 0
                let code = (status >> 8) & 0xff
                let killedBy = exited ? nil : Optional(status & 0x7f)
                if case .succeeded = outcome, !(exited && code == 0) {
                    outcome = .rankFailed(rank: nodeRank * processesPerNode + local, localRank: local, pid: pid,
                                          status: exited ? code : nil, signal: killedBy)
                    for other in running.keys { kill(-other, SIGTERM) }
                    stopDeadline = clock.now + gracePeriod
                }
                continue
            }
            if let deadline = stopDeadline, clock.now >= deadline {
                for other in running.keys { kill(-other, SIGKILL) }
                stopDeadline = clock.now + .seconds(3600)
            }
            usleep(20_000)
        }
        return outcome
    }

    /// Starts `program` with `arguments` (argv, the program first) in a process group of its own.
    static func spawn(_ program: String, arguments: [String], environment: [String: String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        // The ranks must not inherit the launcher's forwarding handlers' effect on these signals.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, program, nil, &attributes, argv, envp)
        guard status == 0 else {
            throw DistributedError.launch(reason: "cannot start '\(program)': \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Fails fast, naming the port, when another process listens on it (rank 0 would fail later,
    /// after the other ranks had waited for it).
    public static func checkPortFree(_ port: Int, host: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        // As the TCPStore binds: a port left in TIME_WAIT by an earlier run is free.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 && errno == EADDRINUSE {
            throw DistributedError.portInUse(host: host, port: port, reason: String(cString: strerror(EADDRINUSE)))
        }
    }

    private func installForwarding() {
        for s in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = { pendingSignal = sig_atomic_t($0) }
            #else
            action.__sigaction_u.__sa_handler = { pendingSignal = sig_atomic_t($0) }
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(s, &action, nil)
        }
    }
}

/// "SIGKILL" for 9, etc.
public func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGHUP: "SIGHUP"
    case SIGINT: "SIGINT"
    case SIGQUIT: "SIGQUIT"
    case SIGILL: "SIGILL"
    case SIGABRT: "SIGABRT"
    case SIGBUS: "SIGBUS"
    case SIGFPE: "SIGFPE"
    case SIGKILL: "SIGKILL"
    case SIGSEGV: "SIGSEGV"
    case SIGPIPE: "SIGPIPE"
    case SIGTERM: "SIGTERM"
    default: "signal \(signal)"
    }
}
