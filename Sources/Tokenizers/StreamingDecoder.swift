/// The text of a growing token sequence, handed out as soon as it is final — for printing tokens
/// while they are generated.
///
/// Each call decodes the sequence (so the pieces always add up to ``Tokenizer/decode(_:skipSpecialTokens:)``
/// of all ids) and gives out what is new, holding back what a later token can still change:
/// - trailing U+FFFD: a multi-byte UTF-8 character split across tokens (byte-level BPE) decodes
///   to replacement characters until its last byte arrives;
/// - a trailing run of byte-fallback tokens (`<0xE4>`, Llama/SentencePiece vocabularies): the run
///   decodes as a whole, and one more byte that leaves it invalid turns every byte of it into
///   U+FFFD (HF's ByteFallback rule), so its text is final only once another token follows;
/// - with `clean_up_tokenization_spaces`, the text from the last space on (a later "." or "'s"
///   removes that space).
public struct StreamingDecoder {
    public let tokenizer: Tokenizer
    public let skipSpecialTokens: Bool
    /// Every id appended so far.
    public private(set) var ids: [Int] = []
    /// Unicode scalars already given out.
    private var emitted = 0

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Appends `id`; returns the text that became final with it (often empty).
    public mutating func append(_ id: Int) -> String {
        ids.append(id)
        // Leave out the trailing byte-fallback run (skipped special tokens inside it do not end it).
        var settled = ids.count
        while settled > 0, isByteToken(ids[settled - 1]) || (skipSpecialTokens && tokenizer.isSpecial(ids[settled - 1])) {
            settled -= 1
        }
        let scalars = Array(tokenizer.decode(Array(ids[..<settled]), skipSpecialTokens: skipSpecialTokens).unicodeScalars)
        var end = scalars.count
        while end > emitted, scalars[end - 1] == "\u{FFFD}" { end -= 1 }
        if tokenizer.config.cleanUpTokenizationSpaces ?? false, let space = scalars[emitted..<end].lastIndex(of: " ") {
            end = space
        }
        return take(scalars, upTo: end)
    }

    /// Everything not given out yet (call once, after the last id).
    public mutating func finish() -> String {
        let scalars = Array(tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens).unicodeScalars)
        return take(scalars, upTo: scalars.count)
    }

    private func isByteToken(_ id: Int) -> Bool {
        tokenizer.idToToken(id).flatMap(ByteFallbackDecoder.byteValue) != nil
    }

    private mutating func take(_ scalars: [Unicode.Scalar], upTo end: Int) -> String {
        guard end > emitted else { return "" }
        var piece = String.UnicodeScalarView()
        piece.append(contentsOf: scalars[emitted..<end])
        emitted = end
        return String(piece)
    }
}
