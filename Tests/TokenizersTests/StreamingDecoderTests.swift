import Foundation
import Testing
@testable import Tokenizers

/// Streaming decode (`svco generate` prints answers as they come): the pieces add up to the whole
/// decode, never show a broken character, and are given out as soon as they are final.
@Suite(.serialized) struct StreamingDecoderTests {
    /// Feeds `ids` one by one. After each id, stopping there (``StreamingDecoder/finish()`` on a
    /// copy) must give exactly `decode` of the ids so far — so nothing shown is ever taken back and
    /// no broken character is shown — and, when the id is an ordinary token (not a byte-fallback
    /// `<0x..>` piece or a skipped special token) and clean-up is off, everything but a trailing
    /// incomplete character must already be shown.
    func check(_ tok: Tokenizer, _ ids: [Int], label: String) {
        var stream = StreamingDecoder(tokenizer: tok)
        var shown = ""
        let cleanUp = tok.config.cleanUpTokenizationSpaces ?? false
        for end in 1...ids.count {
            shown += stream.append(ids[end - 1])
            let prefix = tok.decode(Array(ids[..<end]), skipSpecialTokens: true)
            var stopped = stream
            #expect(Array((shown + stopped.finish()).unicodeScalars) == Array(prefix.unicodeScalars), "\(label): stopped after \(end) ids")
            let last = tok.idToToken(ids[end - 1]) ?? ""
            if !cleanUp && ByteFallbackDecoder.byteValue(last) == nil && !tok.isSpecial(ids[end - 1]) {
                var settled = Array(prefix.unicodeScalars)
                while settled.last == "\u{FFFD}" { settled.removeLast() }
                #expect(Array(shown.unicodeScalars) == settled, "\(label): after \(end) ids")
            }
        }
        let whole = tok.decode(ids, skipSpecialTokens: true)
        if !whole.unicodeScalars.contains("\u{FFFD}") { #expect(!shown.unicodeScalars.contains("\u{FFFD}"), "\(label)") }
    }

    /// Byte-level BPE (Qwen2) and byte fallback (Llama-2): CJK, emoji and accents split over tokens.
    @Test func realVocabulariesStreamWholeCharacters() throws {
        let texts = try TestSupport.llamaCppCases("qwen2").map(\.0) + Array(try TestSupport.realStrings().prefix(40))
            + ["你好，世界 🦙🦙 naïve café", "👨‍👩‍👧 family"]
        for (name, tok) in [("qwen2", try RealVocabularyTests.qwenFromTiktoken()), ("llama-spm", try RealVocabularyTests.llamaFromGGUF())] {
            var split = 0
            for text in texts {
                let ids = tok.encode(text, addSpecialTokens: false).ids
                guard !ids.isEmpty else { continue }
                check(tok, ids, label: "\(name) \(text.debugDescription)")
                // Count texts where a character really is split over tokens, so the test is not vacuous.
                if (1..<ids.count).contains(where: { tok.decode(Array(ids[..<$0])).unicodeScalars.last == "\u{FFFD}" }) { split += 1 }
            }
            #expect(split >= 5, "\(name): only \(split) texts split a character across tokens")
        }
    }

    /// With `clean_up_tokenization_spaces`, " ." and " 's" lose their space once the next token
    /// comes: the text from the last space waits for it, and the pieces still add up.
    @Test func cleanUpSpacesWaitForTheNextToken() throws {
        let dir = TestSupport.fixtures.appendingPathComponent("tiny/gpt2").path
        var config = try TokenizerConfig.read(file: dir + "/tokenizer_config.json")
        config.cleanUpTokenizationSpaces = true
        let tok = try Tokenizer(tokenizerJSON: try Tokenizer.readJSON(dir + "/tokenizer.json"), config: config)
        for text in ["Hi , it 's me . Do n't ! Ok ?", "a ' b", "end ."] {
            check(tok, tok.encode(text, addSpecialTokens: false).ids, label: text)
        }
        #expect(tok.decode(tok.encode("Hi , it 's me .", addSpecialTokens: false).ids) == "Hi, it's me.")
    }
}
