import Foundation
import Testing
@testable import Tokenizers

/// End-to-end loading of small tokenizer folders saved by transformers (Fixtures/tiny/*, made by
/// Fixtures/make_fixtures.py), compared with what transformers itself returned for ~100 strings:
/// ids with and without special tokens, offsets, decodes with and without special tokens.
@Suite struct TinyTokenizerTests {
    static let expected: JSONValue? = try? TestSupport.json(TestSupport.fixtures.appendingPathComponent("tiny-expected.json"))

    func check(_ name: String) throws {
        let expected = try #require(Self.expected)
        let strings = TestSupport.strings(expected["strings"])
        let entry = try #require(expected["tokenizers"]?[name])
        let dir = TestSupport.fixtures.appendingPathComponent("tiny/\(name)").path
        let tok = try Tokenizer(directory: dir)

        #expect(tok.vocabularySize == TestSupport.optionalInt(entry["len"]))
        #expect(tok.bosTokenID == TestSupport.optionalInt(entry["bos_id"]))
        #expect(tok.eosTokenID == TestSupport.optionalInt(entry["eos_id"]))
        #expect(tok.padTokenID == TestSupport.optionalInt(entry["pad_id"]))
        #expect(tok.unkTokenID == TestSupport.optionalInt(entry["unk_id"]))

        let cases = TestSupport.array(entry["cases"])
        #expect(cases.count == strings.count && strings.count > 90)
        var failures = 0
        for (s, c) in zip(strings, cases) {
            let enc = tok.encode(s)
            let plain = tok.encode(s, addSpecialTokens: false)
            let ids = TestSupport.ints(c["ids"])
            let ok = enc.ids == ids
                && enc.offsets == TestSupport.pairRanges(c["offsets"])
                && plain.ids == TestSupport.ints(c["ids_plain"])
                && tok.decode(ids) == TestSupport.strings(.array([c["decoded"] ?? .null])).first
                && tok.decode(ids, skipSpecialTokens: true) == TestSupport.strings(.array([c["decoded_skip"] ?? .null])).first
            if !ok {
                failures += 1
                if failures <= 5 {
                    Issue.record("""
                        \(name) \(s.debugDescription)
                          ids      \(enc.ids) expected \(ids)
                          offsets  \(enc.offsets.map { [$0.lowerBound, $0.upperBound] }) expected \(TestSupport.array(c["offsets"]).map(TestSupport.ints))
                          plain    \(plain.ids) expected \(TestSupport.ints(c["ids_plain"]))
                          decoded  \(tok.decode(ids).debugDescription) expected \(String(describing: c["decoded"]))
                          skip     \(tok.decode(ids, skipSpecialTokens: true).debugDescription) expected \(String(describing: c["decoded_skip"]))
                        """)
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(strings.count) strings differ for \(name)")

        if case .array = entry["ids_add_eos"] {
            let eosTok = try Tokenizer(directory: dir, addEOS: true)
            let want = TestSupport.array(entry["ids_add_eos"]).map(TestSupport.ints)
            let got = strings.map { eosTok.encode($0).ids }
            #expect(got == want)
            #expect(got.allSatisfy { $0.last == eosTok.eosTokenID && $0.first == eosTok.bosTokenID })
        }
    }

    @Test func llamaLegacyLayout() throws { try check("llama") }
    @Test func llamaMetaspaceLayout() throws { try check("llama-metaspace") }
    @Test func qwen2Layout() throws { try check("qwen2") }
    @Test func gpt2LayoutWithTrimmedOffsets() throws { try check("gpt2") }

    @Test func overridesTurnBOSOffAndEOSOn() throws {
        let dir = TestSupport.fixtures.appendingPathComponent("tiny/llama").path
        let tok = try Tokenizer(directory: dir, addBOS: false, addEOS: true)
        let plain = try Tokenizer(directory: dir).encode("Hello world", addSpecialTokens: false)
        let enc = tok.encode("Hello world")
        #expect(enc.ids == plain.ids + [2])
        #expect(enc.offsets.last == 0..<0)
        #expect(tok.encode("Hello world", addSpecialTokens: false).ids == plain.ids)
    }

    @Test func addedTokenFlagsAreLoaded() throws {
        let tok = try Tokenizer(directory: TestSupport.fixtures.appendingPathComponent("tiny/llama").path)
        let ls = try #require(tok.addedTokens.first { $0.content == "[LS]" })
        #expect(ls.lstrip && ls.rstrip && !ls.normalized && !ls.special)
        let x = try #require(tok.addedTokens.first { $0.content == "xyzzy" })
        #expect(x.singleWord && x.normalized)
        #expect(tok.isSpecial(try #require(tok.tokenToID("<image>"))))
        #expect(tok.idToToken(try #require(tok.tokenToID("<pad>"))) == "<pad>")
        #expect(tok.idToToken(-1) == nil && tok.idToToken(1_000_000) == nil)
    }
}
