#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where this process sits in a multi-process job, read from the launcher's environment:
/// torchrun's contract first (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `LOCAL_WORLD_SIZE`, `MASTER_ADDR`,
/// `MASTER_PORT`, `TORCHELASTIC_USE_AGENT_STORE`, `TORCHELASTIC_RESTART_COUNT`), which `svco launch`
/// sets too; else Open MPI's `OMPI_COMM_WORLD_*`; else SLURM's `SLURM_PROCID`/`SLURM_NTASKS`/
/// `SLURM_LOCALID`. Under MPI and SLURM, `MASTER_ADDR` and `MASTER_PORT` must still be set (to the
/// first node and a free port): resolving a SLURM node list is left to the job script.
public struct LaunchEnvironment: Sendable, Equatable {
    /// Which launcher's variables were read.
    public enum Source: String, Sendable { case torchrun, openMPI = "open-mpi", slurm }

    public var rank: Int
    public var worldSize: Int
    /// This process's index among the ranks on its node (its GPU under NCCL).
    public var localRank: Int
    public var localWorldSize: Int
    /// Host of the rendezvous store (rank 0's node, or torchrun's agent).
    public var masterAddress: String
    public var masterPort: Int
    /// torchrun's elastic agent already serves the store: every rank is a client, and keys live under
    /// `/worker/attempt_<restartCount>` as torch's own `init_process_group` puts them.
    public var useAgentStore: Bool
    public var restartCount: Int
    public var source: Source

    public init(rank: Int, worldSize: Int, localRank: Int, localWorldSize: Int, masterAddress: String, masterPort: Int,
                useAgentStore: Bool = false, restartCount: Int = 0, source: Source = .torchrun) {
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank
        self.localWorldSize = localWorldSize
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.useAgentStore = useAgentStore
        self.restartCount = restartCount
        self.source = source
    }

    /// torchrun's default port, used when a single process runs without MASTER_PORT.
    public static let defaultPort = 29500

    /// The launch environment of this process, or nil when no launcher's variables are set (a plain,
    /// single-process run). Throws naming the first malformed or inconsistent variable.
    public static func current() throws -> LaunchEnvironment? {
        try parse(processEnvironment())
    }

    /// Parses `environment` (see the type's documentation).
    public static func parse(_ environment: [String: String]) throws -> LaunchEnvironment? {
        let reader = Reader(environment: environment)
        let rank: Int, world: Int, localRank: Int, localWorld: Int
        let source: Source
        if environment["RANK"] != nil || environment["WORLD_SIZE"] != nil {
            source = .torchrun
            rank = try reader.int("RANK")
            world = try reader.int("WORLD_SIZE")
            // Without LOCAL_* (a hand-written launch), all ranks are taken to share one node.
            localRank = try reader.optionalInt("LOCAL_RANK") ?? rank
            localWorld = try reader.optionalInt("LOCAL_WORLD_SIZE") ?? world
        } else if environment["OMPI_COMM_WORLD_RANK"] != nil || environment["OMPI_COMM_WORLD_SIZE"] != nil {
            source = .openMPI
            rank = try reader.int("OMPI_COMM_WORLD_RANK")
            world = try reader.int("OMPI_COMM_WORLD_SIZE")
            localRank = try reader.optionalInt("OMPI_COMM_WORLD_LOCAL_RANK") ?? rank
            localWorld = try reader.optionalInt("OMPI_COMM_WORLD_LOCAL_SIZE") ?? world
        } else if environment["SLURM_PROCID"] != nil || environment["SLURM_NTASKS"] != nil {
            source = .slurm
            rank = try reader.int("SLURM_PROCID")
            world = try reader.int("SLURM_NTASKS")
            localRank = try reader.optionalInt("SLURM_LOCALID") ?? rank
            // SLURM_NTASKS_PER_NODE is only set with --ntasks-per-node, and then a plain number.
            localWorld = try reader.optionalInt("SLURM_NTASKS_PER_NODE") ?? world
        } else {
            return nil
        }
        let names = source.variableNames
        guard world >= 1 else { throw DistributedError.environment(variable: names.world, reason: "must be at least 1, got \(world)") }
        guard (0..<world).contains(rank) else {
            throw DistributedError.environment(variable: names.rank, reason: "\(rank) is not in 0..<\(names.world) (\(world))")
        }
        guard localWorld >= 1, localWorld <= world else {
            throw DistributedError.environment(variable: names.localWorld, reason: "\(localWorld) is not in 1...\(names.world) (\(world))")
        }
        guard (0..<localWorld).contains(localRank) else {
            throw DistributedError.environment(variable: names.localRank,
                                               reason: "\(localRank) is not in 0..<\(names.localWorld) (\(localWorld))")
        }
        // A single process may omit the rendezvous address: it only talks to itself.
        let address: String
        let port: Int
        if world == 1 {
            address = environment["MASTER_ADDR"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
            port = try reader.optionalInt("MASTER_PORT") ?? 0
        } else {
            guard let a = environment["MASTER_ADDR"], !a.isEmpty else {
                throw DistributedError.environment(variable: "MASTER_ADDR", reason: "is not set; it must name the host of rank 0 (\(source.rawValue) launch with \(world) ranks)")
            }
            address = a
            port = try reader.int("MASTER_PORT")
        }
        guard (0...65535).contains(port) else {
            throw DistributedError.environment(variable: "MASTER_PORT", reason: "\(port) is not a port number (0...65535)")
        }
        let agent = try reader.bool("TORCHELASTIC_USE_AGENT_STORE")
        if agent && port == 0 {
            throw DistributedError.environment(variable: "MASTER_PORT", reason: "must name the agent's store when TORCHELASTIC_USE_AGENT_STORE is set")
        }
        return LaunchEnvironment(rank: rank, worldSize: world, localRank: localRank, localWorldSize: localWorld,
                                 masterAddress: address, masterPort: port, useAgentStore: agent,
                                 restartCount: try reader.optionalInt("TORCHELASTIC_RESTART_COUNT") ?? 0, source: source)
    }

    /// The variables `svco launch` gives rank `rank` (torchrun's set, without the agent store).
    public var variables: [String: String] {
        [
            "RANK": String(rank), "WORLD_SIZE": String(worldSize), "LOCAL_RANK": String(localRank),
            "LOCAL_WORLD_SIZE": String(localWorldSize), "GROUP_RANK": String(rank / max(1, localWorldSize)),
            "MASTER_ADDR": masterAddress, "MASTER_PORT": String(masterPort),
            "TORCHELASTIC_USE_AGENT_STORE": "False", "TORCHELASTIC_RESTART_COUNT": String(restartCount),
        ]
    }

    struct Reader {
        let environment: [String: String]

        func optionalInt(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingSpaces) else {
                throw DistributedError.environment(variable: name, reason: "'\(text)' is not an integer")
            }
            return value
        }

        func int(_ name: String) throws -> Int {
            guard let value = try optionalInt(name) else {
                throw DistributedError.environment(variable: name, reason: "is not set")
            }
            return value
        }

        /// torchrun writes Python's `str(bool)`: "True"/"False".
        func bool(_ name: String) throws -> Bool {
            guard let text = environment[name]?.trimmingSpaces, !text.isEmpty else { return false }
            switch text.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw DistributedError.environment(variable: name, reason: "'\(text)' is not a boolean (True/False, 1/0)")
            }
        }
    }

    /// This process's environment as a dictionary.
    public static func processEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                out[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return out
    }
}

extension LaunchEnvironment.Source {
    var variableNames: (rank: String, world: String, localRank: String, localWorld: String) {
        switch self {
        case .torchrun: ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")
        case .openMPI: ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE")
        case .slurm: ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE")
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
