import Foundation
import Testing
@testable import Torch

/// Every malformed file gives a thrown error naming the file (and the tensor where one is at fault),
/// never a crash.
@Suite struct SafetensorsMalformedTests {
    /// A file from a raw header string and `dataBytes` bytes of data.
    static func file(header: String, dataBytes: Int = 0, lengthOverride: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        var n = lengthOverride ?? UInt64(h.count)
        var bytes: [UInt8] = []
        for _ in 0..<8 {
            bytes.append(UInt8(n & 0xFF))
            n >>= 8
        }
        return bytes + h + [UInt8](repeating: 0, count: dataBytes)
    }

    static let valid = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#

    static let cases: [(String, [UInt8], String)] = [
        ("empty file", [], "too short for the 8-byte header length"),
        ("seven bytes", [1, 0, 0, 0, 0, 0, 0], "too short"),
        ("lying header length", file(header: valid, dataBytes: 8, lengthOverride: 5000), "runs past the end of the file"),
        ("huge header length", file(header: valid, dataBytes: 8, lengthOverride: 200_000_000), "exceeds the limit"),
        ("zero header length", file(header: "", dataBytes: 0), "cannot hold a JSON object"),
        ("bad JSON", file(header: #"{"a":{"dtype":"F32","#), "not valid JSON"),
        ("JSON array", file(header: "[1,2,3]"), "header"),
        ("not UTF-8", [4, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0xFF, 0xFE, 0x7D], "JSON"),
        ("unknown dtype", file(header: #"{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, dataBytes: 2), "tensor 'a': unsupported dtype 'F8_E4M3'"),
        ("missing shape", file(header: #"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'a': missing field 'shape'"),
        ("missing dtype", file(header: #"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'a': missing field 'dtype'"),
        ("shape of wrong type", file(header: #"{"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'a': field 'shape'"),
        ("three offsets", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}"#, dataBytes: 8), "tensor 'a': data_offsets must be [begin, end]"),
        ("reversed offsets", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, dataBytes: 8), "tensor 'a': data_offsets [8, 0] are not a range"),
        ("negative offset", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, dataBytes: 8), "tensor 'a': data_offsets"),
        ("offsets out of range", file(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 8), "tensor 'a': data_offsets end 16 is past the data buffer of 8 bytes"),
        ("truncated data", Array(file(header: valid, dataBytes: 8).dropLast(3)), "tensor 'a': data_offsets end 8 is past the data buffer of 5 bytes"),
        ("shape and bytes disagree", file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'a': shape [3] of F32 needs 12 bytes but data_offsets span 8"),
        ("negative dimension", file(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'a': negative dimension"),
        ("overflowing shape", file(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'a': shape [4294967296, 4294967296] overflows"),
        ("overlapping tensors", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataBytes: 8), "overlap the previous tensor"),
        ("gap between tensors", file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, dataBytes: 12), "tensor 'b': gap of 4 bytes"),
        ("trailing bytes", file(header: valid, dataBytes: 12), "data buffer has 12 bytes but the tensors cover 8"),
        ("metadata not strings", file(header: #"{"__metadata__":{"a":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 8), "__metadata__"),
        ("random bytes", (0..<64).map { UInt8(($0 * 73 + 19) % 256) }, "header length"),
    ]

    @Test(arguments: cases.indices)
    func malformedFileThrowsClearError(_ index: Int) throws {
        let (name, bytes, phrase) = Self.cases[index]
        let path = temporaryDirectory("malformed\(index)") + "/bad.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SafetensorsFile(path: path).tensors()
            Issue.record("\(name): no error")
        } catch let error as TorchError {
            let message = "\(error)"
            #expect(message.hasPrefix(path), "\(name): \(message)")
            #expect(message.contains(phrase), "\(name): '\(message)' lacks '\(phrase)'")
        }
    }

    @Test func missingFileAndFolderAreIOErrors() {
        #expect { try SafetensorsFile(path: "/nonexistent/x.safetensors") } throws: { "\($0)".contains("/nonexistent/x.safetensors: cannot open") }
        #expect { try SafetensorsFile(path: NSTemporaryDirectory()) } throws: { "\($0)".contains("not a regular file") }
    }

    @Test func aValidFileStillLoads() throws {
        let path = temporaryDirectory() + "/ok.safetensors"
        var bytes = Self.file(header: Self.valid, dataBytes: 0)
        bytes += [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]  // 1.0f, 2.0f
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectValues(try SafetensorsFile(path: path).tensor("a"), [1, 2])
    }
}
