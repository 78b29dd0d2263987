import ArgumentParser
import Torch

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
