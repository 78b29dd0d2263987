import ArgumentParser
import Distributed
import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco selftest`: checks the libtorch bridge on a device against CPU float64 results.
struct SelfTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Check tensor ops, autograd, attention and AdamW on a device against CPU results.",
        discussion: "Ends with a line 'N passed, M failed'; exits non-zero when anything failed."
    )

    @Option(help: "Device to check: cpu, cuda or cuda:N.")
    var device: String = "cpu"

    @Option(help: "CPU threads for libtorch (default: torch's choice).")
    var threads: Int?

    /// The data-parallel checks (`DistributedSelfTest`), for scripts/gpu-check: run under `svco launch`
    /// (or alone, as a world of one). Hidden: a tool for checking machines, not for users.
    @Flag(help: .private)
    var distributed = false

    @Option(help: .private)
    var model = "demo/tiny-llava"

    @Option(help: .private)
    var data = "demo/mvc/train.json"

    func validate() throws {
        guard let parsed = Device(name: device) else {
            throw ValidationError("--device '\(device)' is not cpu, cuda or cuda:N")
        }
        if parsed.isCUDA {
            guard Torch.cudaIsAvailable else {
                throw ValidationError("--device \(device): CUDA is not available (\(Torch.cudaLoadError ?? "no GPU visible"))")
            }
            if case .cuda(let index) = parsed, index >= Torch.cudaDeviceCount {
                throw ValidationError("--device \(device): only \(Torch.cudaDeviceCount) CUDA device(s) visible")
            }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        if let threads { Torch.threads = threads }
        if distributed { return try runDistributed() }
        let target = Device(name: device) ?? .cpu
        print("svco selftest on \(target) (libtorch threads: \(Torch.threads), CUDA: \(Torch.cudaIsAvailable ? "\(Torch.cudaDeviceCount) device(s)" : "off"))")
        let outcomes = SelfTest(device: target).run { outcome in
            print("\(outcome.passed ? "ok  " : "FAIL") \(outcome.name) (\(outcome.detail))")
        }
        let failed = outcomes.filter { !$0.passed }.count
        print("\(outcomes.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode.failure }
    }
}

extension SelfTestCommand {
    func runDistributed() throws {
        let launch = try LaunchEnvironment.current()
            ?? LaunchEnvironment(rank: 0, worldSize: 1, localRank: 0, localWorldSize: 1, masterAddress: "127.0.0.1", masterPort: 0)
        let target = try TrainCommand.rankDevice(Device(name: device) ?? .cpu, launch)
        let group = try ProcessGroup.join(launch, device: target, timeout: .seconds(300))
        let prefix = "[rank \(group.rank)/\(group.worldSize)]"
        print("\(prefix) svco selftest --distributed on \(target) (\(group.backend.rawValue), libtorch threads: \(Torch.threads))")
        let fm = FileManager.default
        let trainer = fm.fileExists(atPath: model + "/config.json") && fm.fileExists(atPath: data)
        if !trainer { print("\(prefix) skip training steps: \(model)/config.json or \(data) not found (pass --model/--data)") }
        let outcomes = DistributedSelfTest.run(group: group, model: trainer ? model : nil, data: trainer ? data : nil) { outcome in
            print("\(prefix) \(outcome.passed ? "ok  " : "FAIL") \(outcome.name) (\(outcome.detail))")
        }
        let failed = outcomes.filter { !$0.passed }.count
        print("\(prefix) \(outcomes.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode.failure }
    }
}
