#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// TensorBoard event files (what HF Trainer's TensorBoard callback writes to `OUTPUT_DIR/runs/`):
/// TFRecord framing — length, masked CRC-32C of the length, an `Event` protocol buffer, masked CRC-32C
/// of the data — with one scalar summary value per metric. Encoded by hand: the format is small and
/// a protobuf package would cost a code generator in the build.
public final class TensorBoardWriter {
    public let path: String
    private let file: UnsafeMutablePointer<FILE>

    /// Creates `directory/events.out.tfevents.<seconds>.svco` and writes the file-version event.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let seconds = Int(Date().timeIntervalSince1970)
        path = directory + "/events.out.tfevents.\(seconds).svco"
        guard let f = fopen(path, "wb") else { throw TrainingError.io(path: path, reason: "cannot create the event file") }
        file = f
        var event = ProtoWriter()
        event.double(field: 1, Date().timeIntervalSince1970)
        event.string(field: 3, "brain.Event:2")
        try write(record: event.bytes)
    }

    deinit { fclose(file) }

    /// The tags HF Trainer's TensorBoard (and W&B) callback gives a log line (`rewrite_logs` in
    /// transformers' integration_utils): `eval_X` → `eval/X`, `test_X` → `test/X`, anything else
    /// `train/X` — so `train_reward_acc/…` becomes `train/train_reward_acc/…` and `eval_loss`
    /// `eval/loss`. The `step` of a metrics.jsonl line is the event's step, not a scalar.
    public static func hfTags(_ line: [String: Double]) -> [String: Double] {
        var out: [String: Double] = [:]
        for (key, value) in line where key != "step" {
            if key.hasPrefix("eval_") {
                out["eval/" + key.dropFirst("eval_".count)] = value
            } else if key.hasPrefix("test_") {
                out["test/" + key.dropFirst("test_".count)] = value
            } else {
                out["train/" + key] = value
            }
        }
        return out
    }

    /// One event at `step` holding every value as a scalar summary (tags sorted).
    public func write(step: Int, scalars: [String: Double]) throws {
        var summary = ProtoWriter()
        for tag in scalars.keys.sorted() {
            guard let value = scalars[tag], value.isFinite else { continue }
            var v = ProtoWriter()
            v.string(field: 1, tag)
            v.float(field: 2, Float(value))
            summary.message(field: 1, v.bytes)
        }
        var event = ProtoWriter()
        event.double(field: 1, Date().timeIntervalSince1970)
        event.varint(field: 2, UInt64(bitPattern: Int64(step)))
        event.message(field: 5, summary.bytes)
        try write(record: event.bytes)
    }

    private func write(record data: [UInt8]) throws {
        var length = [UInt8](repeating: 0, count: 8)
        var n = UInt64(data.count)
        for i in 0..<8 {
            length[i] = UInt8(n & 0xFF)
            n >>= 8
        }
        let bytes = length + Self.littleEndian(CRC32C.masked(length)) + data + Self.littleEndian(CRC32C.masked(data))
        clearerr(file)
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, file) }
        if written != bytes.count || fflush(file) != 0 {
            let reason = String(cString: strerror(errno))
            clearerr(file)
            throw TrainingError.io(path: path, reason: "cannot write (\(reason))")
        }
    }

    static func littleEndian(_ x: UInt32) -> [UInt8] { (0..<4).map { UInt8((x >> (8 * UInt32($0))) & 0xFF) } }
}

/// CRC-32C (Castagnoli), as TFRecord uses it.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masking: rotate right by 15 and add a constant.
    public static func masked(_ bytes: [UInt8]) -> UInt32 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}

/// The few protocol-buffer encodings an `Event` needs.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func key(_ field: Int, _ wireType: Int) { raw(UInt64(field << 3 | wireType)) }

    mutating func raw(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(field: Int, _ value: UInt64) {
        key(field, 0)
        raw(value)
    }

    mutating func double(field: Int, _ value: Double) {
        key(field, 1)
        var bits = value.bitPattern
        for _ in 0..<8 {
            bytes.append(UInt8(bits & 0xFF))
            bits >>= 8
        }
    }

    mutating func float(field: Int, _ value: Float) {
        key(field, 5)
        var bits = value.bitPattern
        for _ in 0..<4 {
            bytes.append(UInt8(bits & 0xFF))
            bits >>= 8
        }
    }

    mutating func message(field: Int, _ payload: [UInt8]) {
        key(field, 2)
        raw(UInt64(payload.count))
        bytes += payload
    }

    mutating func string(field: Int, _ text: String) { message(field: field, Array(text.utf8)) }
}
