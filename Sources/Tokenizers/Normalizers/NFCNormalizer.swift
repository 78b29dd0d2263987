/// Unicode canonical composition (NFC), as Qwen2's tokenizer applies first.
///
/// The stdlib composes whole strings but reports no alignment, so the text is cut into chunks that
/// normalise independently: a chunk begins at each ASCII scalar (ASCII never composes with what
/// precedes it nor decomposes). A chunk that NFC leaves unchanged keeps its alignment exactly; a
/// changed chunk is cut further at combining-class-0 scalars when that provably gives the same
/// result, and each changed piece is aligned scalar by scalar (see `appendChanged`).
struct NFCNormalizer: Normalizer {
    func normalize(_ text: AlignedText) -> AlignedText {
        // Scalars below U+0300 are all NFC-stable starters that nothing before them composes
        // with, so text made of them alone is already NFC.
        if !text.scalars.contains(where: { $0.value >= 0x300 }) { return text }
        var out = AlignedTextBuilder(capacity: text.count)
        var i = 0
        let n = text.count
        while i < n {
            var j = i + 1
            while j < n && text.scalar(j).value >= 0x80 { j += 1 }
            appendChunk(text, i..<j, to: &out)
            i = j
        }
        return out.build()
    }

    private func nfc(_ text: AlignedText, _ range: Range<Int>) -> [Unicode.Scalar] {
        var view = String.UnicodeScalarView()
        for k in range { view.append(text.scalar(k)) }
        let bytes = String(view)._nfcCodeUnits
        return Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
    }

    private func same(_ text: AlignedText, _ range: Range<Int>, _ result: [Unicode.Scalar]) -> Bool {
        guard result.count == range.count else { return false }
        for (k, s) in zip(range, result) where text.scalar(k) != s { return false }
        return true
    }

    private func appendCopy(_ text: AlignedText, _ range: Range<Int>, to out: inout AlignedTextBuilder) {
                for k in range {
            out.append(text.scalar(k), start: text.start(k), end: text.end(k))
        }
    }

    /// Aligns a changed piece the way HF's alignment-tracking NFC does. Each input scalar is first
    /// normalised alone (a decomposition's scalars all keep their source's range); if composition
    /// across scalars then changes the sequence further, a composed scalar keeps the range of the
    /// first scalar it absorbed, the absorbed ones vanish, and the scalars after it pair with the
    /// last remaining ones.
    private func appendChanged(_ text: AlignedText, _ range: Range<Int>, _ result: [Unicode.Scalar],
                               to out: inout AlignedTextBuilder) {
        var items: [(Unicode.Scalar, Int)] = []
        for i in range {
            for s in nfc(text, i..<(i + 1)) { items.append((s, i)) }
        }
                if items.map(\.0) == result {
            for (s, i) in items { out.append(s, start: text.start(i), end: text.end(i)) }
            return
        }
        let n = items.count, m = result.count
        for (k, s) in result.enumerated() {
            let source = m <= n ? (k == 0 ? 0 : n - m + k) : min(k, n - 1)
            let i = items[source].1
            out.append(s, start: text.start(i), end: text.end(i))
        }
    }

    private func appendChunk(_ text: AlignedText, _ range: Range<Int>, to out: inout AlignedTextBuilder) {
        if range.count == 1 && text.scalar(range.lowerBound).value < 0x300 {
            appendCopy(text, range, to: &out)
            return
        }
        let result = nfc(text, range)
        if same(text, range, result) {
            appendCopy(text, range, to: &out)
            return
        }
        // Finer pieces: each starts at a combining-class-0 scalar.
        var pieces: [Range<Int>] = []
        var start = range.lowerBound
        for k in (range.lowerBound + 1)..<range.upperBound
        where text.scalar(k).properties.canonicalCombiningClass.rawValue == 0 {
            pieces.append(start..<k)
            start = k
        }
        pieces.append(start..<range.upperBound)
        let results = pieces.map { nfc(text, $0) }
        guard results.joined().elementsEqual(result) else {
            appendChanged(text, range, result, to: &out)
            return
        }
        for (piece, pieceResult) in zip(pieces, results) {
            if same(text, piece, pieceResult) {
                appendCopy(text, piece, to: &out)
            } else {
                appendChanged(text, piece, pieceResult, to: &out)
            }
        }
    }
}
