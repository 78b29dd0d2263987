import AtomicFiles
import CTorch
import JSONLiteral
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes safetensors files atomically: everything goes to a temporary file in the same folder,
/// which is flushed to disk and then renamed over the target, so a crash never leaves half a file.
public enum SafetensorsWriter {
    /// Writes `tensors` (any device, any layout) with `metadata` (HF loaders want `format: pt`).
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = ["format": "pt"],
                             to path: String) throws {
        let names = tensors.keys.sorted()
        var json = "{"
        var first = true
        func field(_ text: String) {
            if !first { json += "," }
            first = false
            json += text
        }
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonStringLiteral($0)):\(jsonStringLiteral(metadata[$0] ?? ""))" }
            field("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        var ordered: [Tensor] = []
        for name in names {
            guard let t = tensors[name] else { continue }
            let size = t.byteCount
            let shape = t.shape.map(String.init).joined(separator: ",")
            field("\(jsonStringLiteral(name)):{\"dtype\":\"\(SafetensorsHeader.name(of: t.dtype))\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
            ordered.append(t)
        }
        json += "}"
        // Pad with spaces so the data buffer starts 8-byte aligned, as the reference writer does.
        var header = Array(json.utf8)
        while (8 + header.count) % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var prefix = [UInt8](repeating: 0, count: 8)
        var n = UInt64(header.count)
        for i in 0..<8 {
            prefix[i] = UInt8(n & 0xFF)
            n >>= 8
        }

        try AtomicFile.write(to: path) { file in
            try file.write(prefix)
            try file.write(header)
            for t in ordered {
                try withCPUBytes(t) { try file.write($0) }
            }
        }
    }

    /// Calls `body` with the tensor's elements as contiguous CPU bytes, copying only when needed.
    static func withCPUBytes<R>(_ t: Tensor, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let cpu = (t.device == .cpu && t.isContiguous) ? t : t.detach().to(device: .cpu).contiguous()
        return try withExtendedLifetime(cpu) {
            let p = ct_data_ptr(cpu.handle)
            return try body(UnsafeRawBufferPointer(start: p, count: cpu.byteCount))
        }
    }
}
