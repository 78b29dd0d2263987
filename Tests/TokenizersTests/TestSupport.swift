import Foundation
import Testing
@testable import Tokenizers

/// Paths and fixture readers shared by the tokenizer tests.
enum TestSupport {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = testsDirectory.appendingPathComponent("Fixtures")
    static let repoRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
    /// Where scripts/fetch-assets/tokenizers.sh unpacks the real vocabularies.
    static let assets = repoRoot.appendingPathComponent(".deps/test-assets/tokenizers")

    struct MissingAsset: Error, CustomStringConvertible {
        let path: String
        var description: String { "missing test asset \(path): run scripts/fetch-test-assets" }
    }

    /// Path of a fetched asset; a missing one is a failure, never a skip.
    static func asset(_ name: String) throws -> String {
        let path = assets.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else { throw MissingAsset(path: path) }
        return path
    }

    static func json(_ url: URL) throws -> JSONValue {
        try JSONValue.parse([UInt8](Data(contentsOf: url)))
    }

    static func ints(_ v: JSONValue?) -> [Int] {
        guard case let .array(items)? = v else { return [] }
        return items.compactMap(\.integerValue)
    }

    static func strings(_ v: JSONValue?) -> [String] {
        guard case let .array(items)? = v else { return [] }
        return items.compactMap { if case let .string(s) = $0 { return s } else { return nil } }
    }

    static func array(_ v: JSONValue?) -> [JSONValue] {
        guard case let .array(items)? = v else { return [] }
        return items
    }

    static func optionalInt(_ v: JSONValue?) -> Int? {
        v?.integerValue
    }

    /// Flat `[a0, b0, a1, b1, …]` offsets as ranges.
    static func ranges(_ flat: [Int]) -> [Range<Int>] {
        stride(from: 0, to: flat.count - 1, by: 2).map { flat[$0]..<flat[$0 + 1] }
    }

    /// Offsets given as `[[a, b], …]`.
    static func pairRanges(_ v: JSONValue?) -> [Range<Int>] {
        array(v).map { let p = ints($0); return p.count == 2 ? p[0]..<p[1] : 0..<0 }
    }

    /// The shared test strings (real-strings.json).
    static func realStrings() throws -> [String] {
        strings(try json(fixtures.appendingPathComponent("real-strings.json")))
    }

    /// llama.cpp's vocab test cases: inputs separated by `__ggml_vocab_test__` lines, one
    /// line of space-separated ids per input.
    static func llamaCppCases(_ vocab: String) throws -> [(String, [Int])] {
        // Split on bytes: "\r\n" is one Character, so String splitting could miss a separator.
        let inp = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try asset("ggml-vocab-\(vocab).gguf.inp"))))
        let out = try String(contentsOfFile: try asset("ggml-vocab-\(vocab).gguf.out"), encoding: .utf8)
        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var inputs: [String] = []
        var start = 0, i = 0
        while i + separator.count <= inp.count {
            if inp[i..<(i + separator.count)].elementsEqual(separator) {
                inputs.append(String(decoding: inp[start..<i], as: UTF8.self))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        if start < inp.count { inputs.append(String(decoding: inp[start...], as: UTF8.self)) }
        let outputs = out.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.split(separator: " ").compactMap { Int($0) }
        }
        return inputs.enumerated().map { ($1, $0 < outputs.count ? outputs[$0] : [-1]) }
    }
}
