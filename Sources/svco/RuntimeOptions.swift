import ArgumentParser
import Torch

/// Device and thread options of every command that runs a model (`train` included).
struct DeviceOptions: ParsableArguments {
    @Option(help: "cpu, cuda or cuda:N.")
    var device = "cpu"

    // .unconditional: "--threads -1" is a bad number to report, not a missing value.
    @Option(parsing: .unconditional, help: "CPU threads for libtorch (default: torch's choice).")
    var threads: Int?

    func validate() throws {
        guard let d = Device(name: device) else { throw ValidationError("--device '\(device)' is not cpu, cuda or cuda:N") }
        if d.isCUDA && !Torch.cudaIsAvailable {
            throw ValidationError("--device \(device): CUDA is not available (\(Torch.cudaLoadError ?? "no GPU visible"))")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Applies the thread count and returns the device.
    func apply() throws -> Device {
        if let threads { Torch.threads = threads }
        return Device(name: device) ?? .cpu
    }
}

/// Device, thread and weight-dtype options of the inference commands (`train` keeps float32 master
/// weights and takes --fp16/--bf16 instead of a dtype).
struct RuntimeOptions: ParsableArguments {
    @OptionGroup var placement: DeviceOptions

    @Option(help: "Weights dtype: float32, bfloat16 or float16 (default: as stored).")
    var dtype: String?

    // Comparing CUDA with the CPU in float32 needs TF32 off: torch leaves it on for cuDNN's
    // convolutions (the vision towers' patch embedding) by default.
    @Option(help: "TF32 matmuls and convolutions on CUDA: true or false (default: torch's, matmuls off and cuDNN convolutions on; no effect on the CPU).")
    var tf32: Bool?

    var parsedDType: DType? { dtype.flatMap(DType.init(name:)) }

    func validate() throws {
        try placement.validate()
        if let dtype {
            guard let t = DType(name: dtype), t.isFloatingPoint else {
                throw ValidationError("--dtype '\(dtype)' is not float32, bfloat16 or float16")
            }
        }
    }

    /// Applies the thread count and the TF32 choice, and returns the device.
    func apply() throws -> Device {
        if let tf32 { Torch.allowTF32(tf32) }
        return try placement.apply()
    }
}
