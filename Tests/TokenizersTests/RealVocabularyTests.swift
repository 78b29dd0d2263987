import Foundation
import Testing
@testable import Tokenizers

/// The real Qwen2 and Llama-2 vocabularies (fetched by scripts/fetch-assets/tokenizers.sh):
/// llama.cpp's own expected encodings, and ids/offsets the `tokenizers` library produced for
/// 2,100 further strings (Fixtures/real-expected.json, made by Fixtures/make_fixtures.py).
@Suite(.serialized) struct RealVocabularyTests {
    static let expected: JSONValue? = try? TestSupport.json(TestSupport.fixtures.appendingPathComponent("real-expected.json"))

    static func qwenFromGGUF() throws -> Tokenizer { try Tokenizer(ggufFile: try TestSupport.asset("ggml-vocab-qwen2.gguf")) }
    static func qwenFromTiktoken() throws -> Tokenizer { try Tokenizer(tiktokenFile: try TestSupport.asset("qwen.tiktoken")) }
    static func llamaFromGGUF() throws -> Tokenizer { try Tokenizer(ggufFile: try TestSupport.asset("ggml-vocab-llama-spm.gguf")) }

    func checkLlamaCpp(_ tok: Tokenizer, _ vocab: String) throws {
        let cases = try TestSupport.llamaCppCases(vocab)
        #expect(cases.count == 46)
        for (text, ids) in cases {
            let got = tok.encode(text, addSpecialTokens: false).ids
            #expect(got == ids, "\(vocab): \(text.debugDescription)")
        }
    }

    @Test func qwen2GGUFPassesLlamaCppCases() throws {
        let tok = try Self.qwenFromGGUF()
        try checkLlamaCpp(tok, "qwen2")
        #expect(tok.encode("Hello world").ids == [9707, 1879])
        #expect(tok.vocabularySize == 151_936)
        #expect(tok.tokenToID("<|im_start|>") == 151_644)
    }

    @Test func qwen2TiktokenPassesLlamaCppCases() throws {
        let tok = try Self.qwenFromTiktoken()
        try checkLlamaCpp(tok, "qwen2")
        #expect(tok.vocabularySize == 151_646)
    }

    @Test func llamaGGUFPassesLlamaCppCases() throws {
        let tok = try Self.llamaFromGGUF()
        try checkLlamaCpp(tok, "llama-spm")
        #expect(tok.encode("Hello world").ids == [1, 15043, 3186])
        #expect(tok.encode("Hello world", addSpecialTokens: false).ids == [15043, 3186])
        #expect(tok.bosTokenID == 1 && tok.eosTokenID == 2 && tok.unkTokenID == 0)
    }

    /// `skipSpecial`: the expected Llama decodes came from `tokenizers.Tokenizer.decode`, whose
    /// skip_special_tokens defaults to true; the Qwen2 ones from transformers (default false).
    func checkStrings(_ tok: Tokenizer, _ family: String, skipSpecial: Bool = false) throws {
        let strings = try TestSupport.realStrings()
        #expect(strings.count >= 2000)
        let expected = try #require(Self.expected?[family])
        let ids = TestSupport.array(expected["ids"]).map(TestSupport.ints)
        let offsets = TestSupport.array(expected["offsets"]).map { TestSupport.ranges(TestSupport.ints($0)) }
        guard case let .object(decodedDiffs)? = expected["decoded_if_not_input"] else {
            Issue.record("no decoded_if_not_input")
            return
        }
        var diffs: [Int: String] = [:]
        for (k, v) in decodedDiffs { if let i = Int(k), case let .string(s) = v { diffs[i] = s } }
        #expect(ids.count == strings.count)
        var idFailures = 0, offsetFailures = 0, decodeFailures = 0
        for (i, s) in strings.enumerated() {
            let enc = tok.encode(s, addSpecialTokens: false)
            if enc.ids != ids[i] {
                idFailures += 1
                if idFailures <= 5 { Issue.record("\(family) ids \(s.debugDescription): \(enc.ids) expected \(ids[i])") }
            }
            if i < offsets.count && enc.offsets != offsets[i] {
                offsetFailures += 1
                if offsetFailures <= 5 {
                    Issue.record("\(family) offsets \(s.debugDescription): \(enc.offsets) expected \(offsets[i])")
                }
            }
            let decoded = tok.decode(enc.ids, skipSpecialTokens: skipSpecial)
            if decoded != (diffs[i] ?? s) {
                decodeFailures += 1
                if decodeFailures <= 5 {
                    Issue.record("\(family) decode \(s.debugDescription): \(decoded.debugDescription)")
                }
            }
        }
        #expect(idFailures == 0 && offsetFailures == 0 && decodeFailures == 0,
                "\(family): \(idFailures) id, \(offsetFailures) offset, \(decodeFailures) decode mismatches")
    }

    @Test func qwen2GGUFMatchesTokenizersLibrary() throws {
        try checkStrings(try Self.qwenFromGGUF(), "qwen2")
    }

    @Test func qwen2TiktokenMatchesTokenizersLibrary() throws {
        try checkStrings(try Self.qwenFromTiktoken(), "qwen2")
    }

    @Test func llamaGGUFMatchesTokenizersLibrary() throws {
        try checkStrings(try Self.llamaFromGGUF(), "llama", skipSpecial: true)
    }

    /// decode(encode(x)) == x wherever normalisation does not change x (NFC for Qwen2; the Llama
    /// pipeline is lossless). Strings that spell special tokens are left out: HF's Llama decode
    /// inserts the `▁` that followed `<s>` as a space, and so do we (checked in
    /// `llamaGGUFMatchesTokenizersLibrary`).
    @Test func roundTripsExceptWhereNFCChangesText() throws {
        let qwen = try Self.qwenFromGGUF(), llama = try Self.llamaFromGGUF()
        let specials = ["<s>", "</s>", "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        let strings = try TestSupport.realStrings().filter { s in !specials.contains { s.contains($0) } }
        #expect(strings.count >= 2000)
        var qwenLosses: [String] = [], llamaLosses: [String] = []
        for s in strings {
            let back = llama.decode(llama.encode(s).ids, skipSpecialTokens: true)
            if Array(back.unicodeScalars) != Array(s.unicodeScalars) { llamaLosses.append(s) }
            let nfc = String(decoding: s._nfcCodeUnits, as: UTF8.self)
            if Array(qwen.decode(qwen.encode(s).ids).unicodeScalars) != Array(nfc.unicodeScalars) { qwenLosses.append(s) }
        }
        #expect(qwenLosses.isEmpty, "\(qwenLosses.prefix(5))")
        #expect(llamaLosses.isEmpty, "\(llamaLosses.prefix(5))")
    }
}
