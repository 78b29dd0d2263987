/// HF's assistant mask: 1 for tokens inside a generation span, computed from token character
/// offsets exactly as transformers 4.57's `apply_chat_template(..., return_assistant_tokens_mask=True)`.
///
/// For each span (start, end): `start_token = char_to_token(start)`,
/// `end_token = char_to_token(end - 1)`, where `char_to_token(c)` is the first token whose offsets
/// satisfy `lo <= c < hi`. If `start_token` is missing the loop stops (HF: "out of bounds maybe
/// due to truncation"), otherwise tokens `start_token ... end_token` are set — and when
/// `end_token` is missing *or 0* (Python's falsy `if end_token`), every token from `start_token`
/// to the end of the sequence is set. These quirks are kept so labels match the reference.
///
/// - Parameters:
///   - offsets: per-token character (Unicode scalar) offsets into the rendered text; tokens
///     without text (e.g. added BOS) carry an empty range and never match.
///   - spans: ``RenderedChat/generationSpans``.
///   - tokenCount: the number of input ids (normally `offsets.count`).
public func assistantTokenMask(offsets: [Range<Int>], spans: [Range<Int>], tokenCount: Int) -> [Int] {
    var mask = [Int](repeating: 0, count: max(tokenCount, 0))
    func charToToken(_ c: Int) -> Int? {
        offsets.firstIndex { $0.lowerBound <= c && c < $0.upperBound }
    }
    for span in spans {
        guard let startToken = charToToken(span.lowerBound) else { break }
        let endToken = charToToken(span.upperBound - 1)
        let stop: Int
        if let endToken, endToken != 0 { stop = endToken + 1 } else { stop = mask.count }
        // Python's range() over an inverted interval is empty; indexes past the ids cannot occur
        // in HF (offsets and ids have the same length) and are skipped here.
        var t = startToken
        while t < stop && t < mask.count {
            mask[t] = 1
            t += 1
        }
    }
    return mask
}
