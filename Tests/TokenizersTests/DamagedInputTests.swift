import Foundation
import Testing
@testable import Tokenizers

/// Bad input never crashes: randomly damaged tokenizer.json and GGUF files either load or throw
/// a `TokenizerError`, and whatever loads still encodes and decodes.
@Suite struct DamagedInputTests {
    /// SplitMix64, so every run damages the files the same way.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func mutatedTokenizerJSON() throws {
        let original = [UInt8](try Data(contentsOf: TestSupport.fixtures.appendingPathComponent("tiny/llama/tokenizer.json")))
        var rng = Generator(state: 42)
        let replacements: [UInt8] = Array("{}[]\",:0-9aZ ▁\\".utf8)
        var loaded = 0, rejected = 0
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = replacements.randomElement(using: &rng) ?? 0
                case 1: bytes.remove(at: i)
                default: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...40, using: &rng)))
                }
            }
            do {
                let json = try JSONValue.parse(bytes)
                let tok = try Tokenizer(tokenizerJSON: json)
                let enc = tok.encode("Hello <s> wörld 😀 12")
                _ = tok.decode(enc.ids + [-5, 1 << 40], skipSpecialTokens: true)
                loaded += 1
            } catch is JSONParseError {
                rejected += 1
            } catch is TokenizerError {
                rejected += 1
            }
        }
        #expect(loaded + rejected == 300 && rejected > 0)
    }

    @Test func truncatedGGUF() throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try TestSupport.asset("ggml-vocab-llama-spm.gguf"))))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = Generator(state: 7)
        for _ in 0..<20 {
            let cut = Int.random(in: 0..<original.count, using: &rng)
            let path = dir.appendingPathComponent("t.gguf")
            try Data(original[..<cut]).write(to: path)
            #expect(throws: TokenizerError.self) { try Tokenizer(ggufFile: path.path) }
        }
    }
}
