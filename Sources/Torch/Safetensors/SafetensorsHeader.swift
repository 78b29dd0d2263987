#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DecodingDiagnostics

/// The parsed and validated JSON header of a safetensors file.
///
/// Layout: 8 bytes little-endian header length N, N bytes of JSON, then the data buffer. Every
/// tensor entry names a dtype, a shape and `data_offsets` [begin, end) into the data buffer; the
/// entries must tile the buffer exactly (no overlap, no gap), as the reference Rust reader demands.
public struct SafetensorsHeader: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        /// Byte range inside the data buffer (after the header).
        public var range: Range<Int>
    }

    /// Entries sorted by offset.
    public var entries: [Entry]
    public var metadata: [String: String]
    /// Bytes before the data buffer (8 + header length).
    public var dataStart: Int

    /// The largest header the reference implementation accepts (100 MB).
    public static let maxHeaderBytes = 100_000_000

    static let dtypeNames: [String: DType] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64, "I64": .int64, "I32": .int32,
        "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
    ]

    static func name(of dtype: DType) -> String {
        switch dtype {
        case .float32: "F32"
        case .float16: "F16"
        case .bfloat16: "BF16"
        case .float64: "F64"
        case .int64: "I64"
        case .int32: "I32"
        case .int16: "I16"
        case .int8: "I8"
        case .uint8: "U8"
        case .bool: "BOOL"
        }
    }

    /// Parses and validates the header of a file of `fileSize` bytes whose first bytes are `prefix`
    /// (at least the 8-byte length plus the JSON). `path` only names the file in errors.
    public init(prefix: UnsafeRawBufferPointer, fileSize: Int, path: String) throws {
        func fail(_ reason: String, tensor: String? = nil) -> TorchError {
            .malformedSafetensors(path: path, tensor: tensor, reason: reason)
        }
        guard fileSize >= 8, prefix.count >= 8 else {
            throw fail("file is \(fileSize) bytes, too short for the 8-byte header length")
        }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(prefix[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(Self.maxHeaderBytes) else {
            throw fail("header length \(length) exceeds the limit of \(Self.maxHeaderBytes) bytes")
        }
        let headerLength = Int(length)
        guard 8 + headerLength <= fileSize, 8 + headerLength <= prefix.count else {
            throw fail("header length \(headerLength) runs past the end of the file (\(fileSize) bytes); truncated?")
        }
        guard headerLength >= 2 else { throw fail("header of \(headerLength) bytes cannot hold a JSON object") }
        let json = Data(prefix[8..<(8 + headerLength)])
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch let error as DecodingError {
            throw Self.describe(error, fail)
        } catch {
            throw fail("header is not valid JSON: \(error)")
        }
        dataStart = 8 + headerLength
        metadata = raw.metadata ?? [:]
        let dataSize = fileSize - dataStart

        var entries: [Entry] = []
        entries.reserveCapacity(raw.tensors.count)
        for (name, t) in raw.tensors {
            guard let dtype = Self.dtypeNames[t.dtype] else {
                throw fail("unsupported dtype '\(t.dtype)' (svco reads \(Self.dtypeNames.keys.sorted().joined(separator: ", ")))",
                           tensor: name)
            }
            guard t.dataOffsets.count == 2 else {
                throw fail("data_offsets must be [begin, end], got \(t.dataOffsets.count) numbers", tensor: name)
            }
            let (begin, end) = (t.dataOffsets[0], t.dataOffsets[1])
            guard begin >= 0, end >= begin else { throw fail("data_offsets [\(begin), \(end)] are not a range", tensor: name) }
            guard end <= dataSize else {
                throw fail("data_offsets end \(end) is past the data buffer of \(dataSize) bytes; truncated?", tensor: name)
            }
            var bytes = dtype.byteSize
            for d in t.shape {
                guard d >= 0 else { throw fail("negative dimension in shape \(t.shape)", tensor: name) }
                let (p, overflow) = bytes.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("shape \(t.shape) overflows", tensor: name) }
                bytes = p
            }
            guard bytes == end - begin else {
                throw fail("shape \(t.shape) of \(t.dtype) needs \(bytes) bytes but data_offsets span \(end - begin)",
                           tensor: name)
            }
            entries.append(Entry(name: name, dtype: dtype, shape: t.shape, range: begin..<end))
        }
        entries.sort { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }
        var cursor = 0
        for e in entries {
            if e.range.lowerBound < cursor {
                throw fail("data_offsets [\(e.range.lowerBound), \(e.range.upperBound)] overlap the previous tensor", tensor: e.name)
            }
            if e.range.lowerBound > cursor {
                throw fail("gap of \(e.range.lowerBound - cursor) bytes before this tensor's data", tensor: e.name)
            }
            cursor = e.range.upperBound
        }
        if cursor != dataSize {
            throw fail("data buffer has \(dataSize) bytes but the tensors cover \(cursor)")
        }
        self.entries = entries
    }

    /// A header that does not decode: the path's first key is the tensor, the rest its field.
    private static func describe(_ error: DecodingError, _ fail: (String, String?) -> TorchError) -> TorchError {
        let failure = DecodingFailure(error)
        guard case let .key(tensor)? = failure.path.first else {
            return fail(failure.kind == .invalid ? "header \(failure.reason)" : "header must be a JSON object of tensor entries", nil)
        }
        let field = failure.field(from: 1)
        switch failure.kind {
        case .missing: return fail("missing field '\(field)'", tensor)
        case .null, .wrongType: return fail("field '\(field)' has the wrong type: \(failure.detail)", tensor)
        case .invalid: return fail("field '\(field)' is invalid: \(failure.detail)", tensor)
        }
    }
}

/// The header as it appears in JSON, before validation.
private struct RawHeader: Decodable {
    struct RawTensor: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]
        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var tensors: [(String, RawTensor)] = []
    var metadata: [String: String]?

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try container.decode([String: String].self, forKey: key)
            } else {
                tensors.append((key.stringValue, try container.decode(RawTensor.self, forKey: key)))
            }
        }
    }
}
