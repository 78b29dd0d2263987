import ArgumentParser
import Distributed
#if canImport(Glibc)
import Glibc
#endif

/// `svco launch`: torchrun's job for one node, without Python.
struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Start this node's ranks of a multi-process job with torchrun's environment.",
        discussion: """
            Runs CMD once per local rank with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, \
            MASTER_ADDR and MASTER_PORT set (torchrun's names), forwards SIGINT/SIGTERM/SIGHUP to the ranks, \
            and when one rank fails, stops the others and exits with status 1 naming the rank and its exit \
            status or signal. Example: svco launch --nproc-per-node 2 -- svco train ...
            """
    )

    @Option(name: .customLong("nproc-per-node"), help: "Ranks to start on this node.")
    var nprocPerNode: Int

    @Option(help: "Nodes in the job.")
    var nnodes: Int = 1

    @Option(name: .customLong("node-rank"), help: "This node's index, 0..<nnodes.")
    var nodeRank: Int = 0

    @Option(name: .customLong("master-addr"), help: "Host of rank 0's store (required with --nnodes > 1).")
    var masterAddr: String?

    @Option(name: .customLong("master-port"), help: "Port of rank 0's store.")
    var masterPort: Int = LaunchEnvironment.defaultPort

    @Argument(parsing: .postTerminator, help: "The command each rank runs (after --).")
    var command: [String] = []

    var launcher: Launcher {
        Launcher(processesPerNode: nprocPerNode, nodes: nnodes, nodeRank: nodeRank, masterAddress: masterAddr ?? "127.0.0.1",
                 masterPort: masterPort)
    }

    func validate() throws {
        do { try launcher.validate() } catch { throw ValidationError("\(error)") }
        if nnodes > 1 && masterAddr == nil { throw ValidationError("--master-addr is required with --nnodes \(nnodes)") }
        if command.isEmpty { throw ValidationError("give the command to run after --, e.g. svco launch --nproc-per-node 2 -- svco train ...") }
    }

    func run() throws {
        let outcome: Launcher.Outcome
        do { outcome = try launcher.run(command) } catch { throw CLIError("\(error)") }
        if let message = outcome.message {
            if case .rankFailed = outcome { throw CLIError(message) }
            let line = Array("svco launch: \(message)\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            throw ExitCode(outcome.exitStatus)
        }
    }
}
