import Foundation
import Testing
@testable import Images

/// Where the tests find committed fixtures and fetched real assets.
enum TestPaths {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let assets = repoRoot.appendingPathComponent(".deps/test-assets/images")

    /// A fetched asset; a missing one fails the test (CI runs scripts/fetch-test-assets first).
    static func asset(_ relative: String) throws -> String {
        let path = assets.appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw MissingAsset(path: path)
        }
        return path
    }

    static func fixture(_ relative: String) -> String { fixtures.appendingPathComponent(relative).path }
}

struct MissingAsset: Error, CustomStringConvertible {
    var path: String
    var description: String { "missing test asset \(path): run scripts/fetch-test-assets" }
}

/// zlib's CRC-32 (the fixture script hashes with `zlib.crc32`).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func of(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        bytes.withUnsafeBufferPointer { buf in
            table.withUnsafeBufferPointer { t in
                for b in buf { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            }
        }
        return c ^ 0xFFFF_FFFF
    }
}

/// Reads a little-endian float32 `.npy` file (format version 1 or 2).
func readNPYFloat32(_ path: String) throws -> (shape: [Int], values: [Float]) {
    let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    struct BadNPY: Error { var why: String }
    guard data.count > 10, data[0] == 0x93, Array(data[1..<6]) == Array("NUMPY".utf8) else { throw BadNPY(why: "magic") }
    let major = data[6]
    let headerLength: Int, start: Int
    if major == 1 {
        headerLength = Int(data[8]) | Int(data[9]) << 8; start = 10
    } else {
        headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24; start = 12
    }
    let header = String(decoding: data[start..<(start + headerLength)], as: UTF8.self)
    guard header.contains("'descr': '<f4'"), header.contains("'fortran_order': False") else { throw BadNPY(why: header) }
    guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
        throw BadNPY(why: header)
    }
    let shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    let body = start + headerLength
    let count = shape.reduce(1, *)
    guard data.count == body + 4 * count else { throw BadNPY(why: "size") }
    var values = [Float](repeating: 0, count: count)
    for i in 0..<count {
        let o = body + 4 * i
        let bits = UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24
        values[i] = Float(bitPattern: bits)
    }
    return (shape, values)
}

/// Deterministic bytes for the random-input tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
