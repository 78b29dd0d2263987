import Foundation
import Testing
@testable import Tokenizers

/// Individual stages against hand-derived values (or values printed by the `tokenizers` library,
/// noted where so).
@Suite struct PipelineStageTests {
    func text(_ s: String) -> AlignedText { AlignedText(original: Array(s.unicodeScalars)[...], base: 0) }

    func pieces(_ pre: any PreTokenizer, _ s: String) -> [String] {
        pre.apply([text(s)]).map { p in
            var v = String.UnicodeScalarView()
            v.append(contentsOf: p.scalars)
            return String(v)
        }
    }

    @Test func qwen2SplitPattern() throws {
        let split = try SplitPreTokenizer(
            config: JSONValueDecoder.decode(SplitPreTokenizer.Config.self, from: .object([
                ("pattern", .object([("Regex", .string(GPTSplitScanner.qwen2Pattern))])),
                ("behavior", .string("Isolated"))]), file: "t"), file: "t", path: "p")
        #expect(pieces(split, "Hello  world's 123\n\n x") == ["Hello", " ", " world", "'s", " ", "1", "2", "3", "\n\n", " x"])
        #expect(pieces(split, "I'M ok!!\r\n  ") == ["I", "'M", " ok", "!!\r\n", "  "])
        // Oniguruma folds ſ to s under (?i) (printed by tokenizers 0.22.1); Swift Regex does not,
        // so this case is checked here rather than in the agreement test below.
        #expect(pieces(split, "x'ſt 'Sure 'LLama") == ["x", "'ſ", "t", " '", "Sure", " '", "LLama"])
    }

    /// The hand-written scanner and Swift `Regex` find the same pieces on all test strings.
    @Test(arguments: [GPTSplitScanner.qwen2Pattern, GPTSplitScanner.gpt2Pattern, GPTSplitScanner.cl100kPattern])
    func scannerAgreesWithRegex(pattern: String) throws {
        let fast = try SplitMatcher(pattern: .regex(pattern), file: "t", path: "p")
        let slow = try SplitMatcher(pattern: .regex(pattern), forceRegex: true, file: "t", path: "p")
        guard case .scanner = fast, case .regex = slow else {
            Issue.record("wrong matcher kinds")
            return
        }
        var disagreements = 0
        // The real strings plus cases where the contraction rule and case-insensitivity matter.
        let tricky = ["'Sure 'sure 'LLama 'rEd 'VEry 'mE 'D 'T", "don'T WON'T it'S", "''s '\n's",
                      "\r\n\r\n x", "  \n  y", "a\u{00A0}b\u{3000}c", "1234567 12,345.6789", " !!!\n\n?? ",
                      "\t\tx\t", "x   ", "   ", "a\r\rb", "€100 ½⅓ Ⅻ", "٣٤٥ १२३ ①②"]
        let strings = try TestSupport.realStrings() + tricky
        for s in strings {
            let t = text(s)
            if fast.matches(in: t) != slow.matches(in: t) {
                disagreements += 1
                if disagreements <= 3 { Issue.record("\(s.debugDescription): \(fast.matches(in: t)) vs \(slow.matches(in: t))") }
            }
        }
        #expect(disagreements == 0 && strings.count >= 2000)
    }

    @Test func nfcKeepsAlignmentPerScalar() {
        // "a" + U+0301 composes to U+00E1 aligned with the "a" only, as HF reports it.
        let n = NFCNormalizer().normalize(text("xa\u{301}b\u{344}"))
        #expect(n.scalars.map(\.value) == [0x78, 0xE1, 0x62, 0x308, 0x301])
        #expect(n.cells.map(\.start) == [0, 1, 3, 4, 4])
        #expect(n.cells.map(\.end) == [1, 2, 4, 5, 5])
    }

    @Test func prependAndReplaceAlignWithTheirSource() {
        let p = PrependNormalizer(config: .init(prepend: "▁")).normalize(text("ab"))
        #expect(p.cells.map(\.start) == [0, 0, 1] && p.cells.map(\.end) == [1, 1, 2])
    }

    @Test func decoders() throws {
        // Values printed by tokenizers 0.22.1 for the same inputs.
        #expect(ByteFallbackDecoder().decodeChain(["<0xE2>", "<0x82>", "a", "<0xAC>", "<0xE2>", "<0x82>", "<0xAC>"]).joined()
                == "\u{FFFD}\u{FFFD}a\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}")
        #expect(ByteFallbackDecoder().decodeChain(["<0xE2>", "<0x82>", "<0xAC>"]) == ["€"])
        let first = try MetaspaceDecoder(config: JSONValueDecoder.decode(
            MetaspacePreTokenizer.Config.self, from: .object([("prepend_scheme", .string("first"))]), file: "t"), file: "t", path: "d")
        #expect(first.decodeChain(["▁▁Hello"]).joined() == "Hello")
        #expect(first.decodeChain(["a▁b", "▁c"]).joined() == "ab c")
        let never = try MetaspaceDecoder(config: JSONValueDecoder.decode(
            MetaspacePreTokenizer.Config.self, from: .object([("prepend_scheme", .string("never"))]), file: "t"), file: "t", path: "d")
        #expect(never.decodeChain(["▁Hello", "▁world"]).joined() == " Hello world")
        let strip = try StripDecoder(config: .init(content: " ", start: 1, stop: 0), file: "t", path: "d")
        #expect(strip.decodeChain(["  a", " b"]).joined() == " ab")
        #expect(ByteLevelDecoder().decodeChain(["Hello", "Ġworld", "Ċ", "ä¸Ń"]) == ["Hello world\n中"])
    }

    /// Merges apply lowest rank first: b+c (rank 0), then a+bc (rank 2); a+b (rank 1) never
    /// gets its chance.
    @Test func mergeOrderAndLongInput() throws {
        let json = try JSONValue.parse(Array(#"""
            {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "aa": 6, "aaaa": 7},
             "merges": ["b c", "a b", "a bc", "a a", "aa aa"]}}
            """#.utf8))
        let tok = try Tokenizer(tokenizerJSON: json)
        #expect(tok.encode("abc").ids == [5])
        #expect(tok.encode("abab").ids == [3, 3])
        #expect(tok.encode("aaaaa").ids == [7, 0])
        // One 200,000-character piece: the heap keeps this fast (quadratic merging would not finish).
        let long = tok.encode(String(repeating: "a", count: 200_000))
        #expect(long.ids.count == 50_000 && long.ids.allSatisfy { $0 == 7 })
        #expect(long.offsets.last == 199_996..<200_000)
    }

    @Test func cleanUpTokenizationSpaces() {
        #expect(Tokenizer.cleanUpTokenization("Hi , it 's me . Do n't ! Ok ?") == "Hi, it's me. Don't! Ok?")
    }
}
