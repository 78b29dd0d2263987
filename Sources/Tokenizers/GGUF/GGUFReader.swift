#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads the metadata key/values of a GGUF file (llama.cpp's model format), which is where
/// llama.cpp keeps tokenizer vocabularies. Tensor data is not read.
struct GGUFReader {
    /// A metadata value.
    enum Value: Sendable {
        case int(Int64)
        case uint(UInt64)
        case float(Double)
        case bool(Bool)
        case string(String)
        case array([Value])

        var asInt: Int? {
            switch self {
            case let .int(v): return Int(exactly: v)
            case let .uint(v): return Int(exactly: v)
            default: return nil
            }
        }
    }

    let file: String
    private(set) var metadata: [String: Value] = [:]

    init(path: String) throws {
        file = path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.unreadableFile(file: path, reason: "\(error)")
        }
        var cursor = Cursor(bytes: [UInt8](data), file: path)
        guard Array(try cursor.bytes(4)) == Array("GGUF".utf8) else {
            throw TokenizerError.malformedVocabulary(file: path, reason: "not a GGUF file (bad magic)")
        }
        let version = try cursor.u32()
        guard version == 2 || version == 3 else {
            throw TokenizerError.malformedVocabulary(file: path, reason: "unsupported GGUF version \(version)")
        }
        _ = try cursor.u64()  // tensor count
        let kvCount = try cursor.u64()
        guard kvCount < 1_000_000 else {
            throw TokenizerError.malformedVocabulary(file: path, reason: "implausible key count \(kvCount)")
        }
        for _ in 0..<kvCount {
            let key = try cursor.string()
            let type = try cursor.u32()
            metadata[key] = try cursor.value(type: type, depth: 0)
        }
    }

    /// A string array (e.g. `tokenizer.ggml.tokens`).
    func strings(_ key: String) throws -> [String]? {
        guard let v = metadata[key] else { return nil }
        guard case let .array(items) = v else { throw invalid(key, "expected an array") }
        return try items.map {
            guard case let .string(s) = $0 else { throw invalid(key, "expected strings") }
            return s
        }
    }

    /// A numeric array as Doubles (scores) or Ints (token types).
    func numbers(_ key: String) throws -> [Double]? {
        guard let v = metadata[key] else { return nil }
        guard case let .array(items) = v else { throw invalid(key, "expected an array") }
        return try items.map {
            switch $0 {
            case let .float(f): return f
            case let .int(i): return Double(i)
            case let .uint(u): return Double(u)
            default: throw invalid(key, "expected numbers")
            }
        }
    }

    func int(_ key: String) -> Int? { metadata[key]?.asInt }

    func bool(_ key: String) -> Bool? {
        if case let .bool(b)? = metadata[key] { return b }
        return nil
    }

    func string(_ key: String) -> String? {
        if case let .string(s)? = metadata[key] { return s }
        return nil
    }

    private func invalid(_ key: String, _ reason: String) -> TokenizerError {
        .invalidField(file: file, field: key, reason: reason)
    }

    /// Bounds-checked little-endian reading.
    private struct Cursor {
        let bytes: [UInt8]
        let file: String
        var position = 0

        func truncated() -> TokenizerError {
            .malformedVocabulary(file: file, reason: "truncated at byte \(position)")
        }

        mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, position + n <= bytes.count else { throw truncated() }
            defer { position += n }
            return bytes[position..<(position + n)]
        }

        mutating func le(_ n: Int) throws -> UInt64 {
            let b = try bytes(n)
            var v: UInt64 = 0
            for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
            return v
        }

        mutating func u32() throws -> UInt32 { UInt32(truncatingIfNeeded: try le(4)) }
        mutating func u64() throws -> UInt64 { try le(8) }

        mutating func string() throws -> String {
            let n = try u64()
            guard n <= UInt64(bytes.count - position) else { throw truncated() }
            return String(decoding: try bytes(Int(n)), as: UTF8.self)
        }

        mutating func value(type: UInt32, depth: Int) throws -> Value {
            switch type {
            case 0: return .uint(try le(1))
            case 1: return .int(Int64(Int8(truncatingIfNeeded: try le(1))))
            case 2: return .uint(try le(2))
            case 3: return .int(Int64(Int16(truncatingIfNeeded: try le(2))))
            case 4: return .uint(try le(4))
            case 5: return .int(Int64(Int32(truncatingIfNeeded: try le(4))))
            case 6: return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: try le(4)))))
            case 7: return .bool(try le(1) != 0)
            case 8: return .string(try string())
            case 9:
                guard depth < 4 else {
                    throw TokenizerError.malformedVocabulary(file: file, reason: "arrays nested too deeply")
                }
                let elementType = try u32()
                let count = try u64()
                guard count <= UInt64(bytes.count - position) else { throw truncated() }
                var items: [Value] = []
                items.reserveCapacity(Int(count))
                for _ in 0..<count { items.append(try value(type: elementType, depth: depth + 1)) }
                return .array(items)
            case 10: return .uint(try u64())
            case 11: return .int(Int64(bitPattern: try u64()))
            case 12: return .float(Double(bitPattern: try u64()))
            default:
                throw TokenizerError.malformedVocabulary(file: file, reason: "unknown value type \(type) at byte \(position)")
            }
        }
    }
}
