import CTorch

/// An n-dimensional array in libtorch. Owns one reference to an `at::Tensor`; views share storage
/// with their base exactly as in PyTorch. Operations never throw: a failing operation is a bug and
/// traps with torch's message (inputs from files and flags are validated before they get here).
public final class Tensor: @unchecked Sendable {
    /// The shim handle; valid for the life of this object.
    public let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { ct_free(handle) }

    // MARK: properties

    public var rank: Int { Int(ct_dim(handle)) }

    public var shape: [Int] {
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: 16) { buf in
            let n = Int(ct_sizes(handle, buf.baseAddress, 16))
            if n <= 16 { return (0..<n).map { Int(buf[$0]) } }
            var big = [Int64](repeating: 0, count: n)
            _ = ct_sizes(handle, &big, Int32(n))
            return big.map { Int($0) }
        }
    }

    public var strides: [Int] {
        var out = [Int64](repeating: 0, count: Swift.max(rank, 1))
        let n = Int(ct_strides(handle, &out, Int32(out.count)))
        return out.prefix(n).map { Int($0) }
    }

    /// Size of one dimension; negative indices count from the end.
    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }

    public var count: Int { Int(ct_numel(handle)) }
    public var dtype: DType { DType(rawValue: ct_dtype(handle)) ?? .float32 }
    public var device: Device { Device(code: ct_device(handle)) }
    public var isContiguous: Bool { ct_is_contiguous(handle) != 0 }
    /// Bytes held by the elements (not the storage).
    public var byteCount: Int { count * Int(ct_element_size(handle)) }

    // MARK: creation

    /// A CPU tensor holding a copy of `values`.
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil) {
        let shape = shape ?? [values.count]
        precondition(shape.reduce(1, *) == values.count,
                     "Tensor(values:shape:): \(values.count) values do not fill shape \(shape)")
        let h = values.withUnsafeBytes { bytes in
            withInt64s(shape) { ct_from_data(bytes.baseAddress, $0, $1, T.dtype.rawValue) }
        }
        self.init(handle: TorchOp.handle(h, "from_data", []))
    }

    /// A 0-dimensional tensor.
    public convenience init(scalar: Scalar, dtype: DType = .float32, device: Device = .cpu) {
        self.init(handle: TorchOp.handle(ct_scalar_tensor(scalar.raw, dtype.rawValue, device.code), "scalar_tensor", []))
    }

    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        TorchOp.result(withInt64s(shape) { ct_empty($0, $1, dtype.rawValue, device.code) }, "empty", [])
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        TorchOp.result(withInt64s(shape) { ct_zeros($0, $1, dtype.rawValue, device.code) }, "zeros", [])
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        TorchOp.result(withInt64s(shape) { ct_ones($0, $1, dtype.rawValue, device.code) }, "ones", [])
    }

    public static func full(_ shape: [Int], _ value: Scalar, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        TorchOp.result(withInt64s(shape) { ct_full($0, $1, value.raw, dtype.rawValue, device.code) }, "full", [])
    }

    /// `[start, end)` in steps of `step`, like `torch.arange`.
    public static func arange(_ start: Scalar = 0, _ end: Scalar, step: Scalar = 1, dtype: DType = .int64,
                              device: Device = .cpu) -> Tensor {
        TorchOp.result(ct_arange(start.raw, end.raw, step.raw, dtype.rawValue, device.code), "arange", [])
    }

    /// Uniform samples in [0, 1). With a generator, draws on the CPU then moves (same values on every device).
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                            generator: Generator? = nil) -> Tensor {
        TorchOp.result(withInt64s(shape) { ct_rand($0, $1, dtype.rawValue, device.code, generator?.handle) }, "rand", [])
    }

    /// Standard normal samples. With a generator, draws on the CPU then moves.
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                             generator: Generator? = nil) -> Tensor {
        TorchOp.result(withInt64s(shape) { ct_randn($0, $1, dtype.rawValue, device.code, generator?.handle) }, "randn", [])
    }

    /// Integers uniform in [low, high), int64.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], device: Device = .cpu,
                               generator: Generator? = nil) -> Tensor {
        TorchOp.result(withInt64s(shape) { ct_randint(Int64(low), Int64(high), $0, $1, device.code, generator?.handle) },
                       "randint", [])
    }

    /// A random permutation of 0..<n (int64, CPU).
    public static func randperm(_ n: Int, generator: Generator? = nil) -> Tensor {
        TorchOp.result(ct_randperm(Int64(n), generator?.handle), "randperm", [])
    }

    // MARK: conversion

    /// This tensor as `dtype` on `device`; returns a tensor sharing storage when nothing changes.
    public func to(_ dtype: DType? = nil, device: Device? = nil, nonBlocking: Bool = false) -> Tensor {
        TorchOp.result(ct_to(handle, (dtype ?? self.dtype).rawValue, (device ?? self.device).code, nonBlocking ? 1 : 0),
                       "to", [self])
    }

    public func to(device: Device) -> Tensor { to(nil, device: device) }

    public func contiguous() -> Tensor { TorchOp.result(ct_contiguous(handle), "contiguous", [self]) }
    public func clone() -> Tensor { TorchOp.result(ct_clone(handle), "clone", [self]) }
    /// A copy of this CPU tensor in page-locked memory, which CUDA copies read and write at full bus
    /// speed (and asynchronously). Only where CUDA is present.
    public func pinned() -> Tensor { TorchOp.result(ct_pin_memory(handle), "pin_memory", [self]) }

    /// Copies `source` into this tensor in place (broadcasting, converting dtype and device).
    public func copy_(_ source: Tensor) { TorchOp.status(ct_copy_(handle, source.handle), "copy_", [self, source]) }

    /// The elements in row-major order, converted to `T` first if the dtype differs.
    public func toArray<T: TensorElement>(_ type: T.Type = T.self) -> [T] {
        let src = dtype == T.dtype ? self : to(T.dtype)
        let n = src.count
        return [T](unsafeUninitializedCapacity: n) { buf, initialized in
            let status = ct_copy_to_buffer(src.handle, UnsafeMutableRawPointer(buf.baseAddress), n * MemoryLayout<T>.stride)
            if status != 0 { TorchOp.fail("copy_to_buffer", [src]) }
            initialized = n
        }
    }

    /// Raw bytes of the elements in row-major order (any dtype, bf16 included).
    public func bytes() -> [UInt8] {
        let n = byteCount
        return [UInt8](unsafeUninitializedCapacity: n) { buf, initialized in
            if ct_copy_to_buffer(handle, UnsafeMutableRawPointer(buf.baseAddress), n) != 0 { TorchOp.fail("copy_to_buffer", [self]) }
            initialized = n
        }
    }

    /// The value of a one-element tensor.
    public func item() -> Scalar {
        let s = ct_item(handle)
        if s.kind < 0 { TorchOp.fail("item", [self]) }
        return Scalar(raw: s)
    }

    public func item<T: TensorElement>(_ type: T.Type) -> T {
        let values: [T] = toArray()
        precondition(values.count == 1, "item(): tensor of shape \(shape) has \(values.count) elements")
        return values[0]
    }
}

extension Tensor: CustomStringConvertible {
    /// torch's own rendering of the values.
    public var description: String {
        guard let s = ct_to_string(handle) else { return "Tensor(\(dtype), \(shape))" }
        defer { ct_free_string(s) }
        return String(cString: s)
    }
}

/// Calls `body` with the shape as a C array of int64.
@inline(__always)
func withInt64s<R>(_ values: [Int], _ body: (UnsafePointer<Int64>?, Int32) -> R) -> R {
    values.withUnsafeBufferPointer { buf in
        buf.withMemoryRebound(to: Int64.self) { body($0.baseAddress, Int32($0.count)) }
    }
}

/// Calls `body` with the handles of `tensors` as a C array.
@inline(__always)
func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafePointer<OpaquePointer?>?, Int32) -> R) -> R {
    let handles: [OpaquePointer?] = tensors.map { $0.handle }
    return withExtendedLifetime(tensors) {
        handles.withUnsafeBufferPointer { body($0.baseAddress, Int32($0.count)) }
    }
}
