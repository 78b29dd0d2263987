import CTorch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only safetensors file mapped into memory. Tensors made from it borrow the mapping
/// (zero copy); the mapping lives until the file object and every such tensor are gone.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let header: SafetensorsHeader
    private let region: MappedRegion

    /// Maps `path` and validates its header; throws `TorchError` naming the file (and tensor).
    public init(path: String) throws {
        self.path = path
        region = try MappedRegion(path: path)
        header = try SafetensorsHeader(prefix: region.bytes, fileSize: region.bytes.count, path: path)
    }

    public var names: [String] { header.entries.map(\.name) }
    public var metadata: [String: String] { header.metadata }

    /// The tensor called `name` (CPU, borrowing the mapping when it is aligned for its dtype).
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = header.entries.first(where: { $0.name == name }) else {
            throw TorchError.malformedSafetensors(path: path, tensor: name, reason: "no such tensor in the file")
        }
        return tensor(for: entry)
    }

    /// Every tensor by name.
    public func tensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        out.reserveCapacity(header.entries.count)
        for e in header.entries { out[e.name] = tensor(for: e) }
        return out
    }

    func tensor(for entry: SafetensorsHeader.Entry) -> Tensor {
        let start = header.dataStart + entry.range.lowerBound
        let pointer = region.bytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0 + start) }
        let aligned = pointer.map { Int(bitPattern: $0) % entry.dtype.byteSize == 0 } ?? true
        let handle: OpaquePointer? = withInt64s(entry.shape) { shape, rank in
            if aligned, let pointer {
                // The tensor keeps the mapping alive through a retained reference released by its deleter.
                let context = Unmanaged.passRetained(region).toOpaque()
                return ct_from_blob(pointer, shape, rank, entry.dtype.rawValue, { ctx in
                    guard let ctx else { return }
                    Unmanaged<MappedRegion>.fromOpaque(ctx).release()
                }, context)
            }
            // Misaligned data (allowed by the format) is copied rather than handed to kernels unaligned.
            return ct_from_data(pointer, shape, rank, entry.dtype.rawValue)
        }
        return TorchOp.result(handle, "from_blob", [])
    }
}

/// A whole file mapped copy-on-write: tensors may be modified in place without touching the file.
final class MappedRegion: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private let length: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TorchError.io(path: path, reason: "cannot open: \(errnoMessage())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw TorchError.io(path: path, reason: "cannot stat: \(errnoMessage())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw TorchError.io(path: path, reason: "not a regular file") }
        length = Int(info.st_size)
        if length == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw TorchError.io(path: path, reason: "cannot map: \(errnoMessage())") }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: length)
    }

    deinit {
        if let base { munmap(base, length) }
    }
}

func errnoMessage() -> String { String(cString: strerror(errno)) }
