import CTorch

/// A seeded CPU random-number generator (torch.Generator). Samples for other devices are drawn on
/// the CPU and moved, so one seed gives the same numbers everywhere.
public final class Generator: @unchecked Sendable {
    let handle: OpaquePointer

    public init(seed: UInt64) {
        guard let h = ct_generator_new(seed) else { TorchOp.fail("Generator", []) }
        handle = h
    }
    deinit { ct_generator_free(handle) }

    public func manualSeed(_ seed: UInt64) { ct_generator_set_seed(handle, seed) }

    /// The full generator state (uint8 tensor), for exact resume.
    public var state: Tensor {
        get { TorchOp.result(ct_generator_get_state(handle), "get_state", []) }
        set { TorchOp.status(ct_generator_set_state(handle, newValue.handle), "set_state", [newValue]) }
    }
}

/// Process-wide libtorch settings.
public enum Torch {
    /// Seeds torch's default generators on every device (torch.manual_seed).
    public static func manualSeed(_ seed: UInt64) { ct_manual_seed(seed) }

    /// Intra-op threads libtorch uses on the CPU.
    public static var threads: Int {
        get { Int(ct_get_num_threads()) }
        set { ct_set_num_threads(Int32(newValue)) }
    }

    /// Allows TF32 in CUDA matmuls and convolutions (HF's `--tf32`); no effect on the CPU.
    public static func allowTF32(_ allow: Bool) { ct_set_allow_tf32(allow ? 1 : 0) }

    /// Whether libtorch_cuda loaded at start-up and sees a GPU.
    public static var cudaIsAvailable: Bool { ct_cuda_is_available() != 0 }
    public static var cudaDeviceCount: Int { Int(ct_cuda_device_count()) }
    /// Why CUDA is off (dlopen's message), or nil when libtorch_cuda loaded.
    public static var cudaLoadError: String? { ct_cuda_load_error().map { String(cString: $0) } }

    public static func synchronize(_ device: Device) {
        if case .cuda(let index) = device { ct_cuda_synchronize(Int32(index)) }
    }

    /// Bytes held by tensors on a CUDA device now / at peak (0 on the CPU).
    public static func memoryAllocated(_ device: Device) -> Int {
        if case .cuda(let index) = device { return Int(ct_cuda_memory_allocated(Int32(index))) }
        return 0
    }
    /// A CUDA device's total memory in bytes; nil on the CPU or when CUDA cannot say.
    public static func totalMemory(_ device: Device) -> Int? {
        guard case .cuda(let index) = device else { return nil }
        let total = Int(ct_cuda_total_memory(Int32(index)))
        return total > 0 ? total : nil
    }

    public static func maxMemoryAllocated(_ device: Device) -> Int {
        if case .cuda(let index) = device { return Int(ct_cuda_max_memory_allocated(Int32(index))) }
        return 0
    }
}
