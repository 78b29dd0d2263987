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

/// The assistant mask transformers 4.57 computes on the *processor* path
/// (`ProcessorMixin.apply_chat_template(..., return_assistant_tokens_mask=True)`), which differs
/// from the tokenizer path above: token start offsets are binary-searched (`bisect_left`, even
/// when special tokens make them unsorted), a span whose start character is not inside the token
/// found is skipped (`continue`, not `break`), and tokens `start_pos ..< end_pos` are set, where
/// `end_pos` is the first token starting at or after the span end (0 meaning "to the end").
///
/// The S-VCO reference ran transformers 4.45, whose processors delegated to the tokenizer, so
/// training should use ``assistantTokenMask(offsets:spans:tokenCount:)``; this one exists to
/// reproduce 4.57 processor outputs. Where HF would raise IndexError (the span starts after the
/// last token start) the span is skipped.
public func processorAssistantTokenMask(offsets: [Range<Int>], spans: [Range<Int>], tokenCount: Int) -> [Int] {
    var mask = [Int](repeating: 0, count: max(tokenCount, 0))
    let starts = offsets.map(\.lowerBound)
    // Python's bisect.bisect_left, step for step (its result on unsorted input matters here).
    func bisectLeft(_ x: Int) -> Int {
        var lo = 0
        var hi = starts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if starts[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
    for span in spans {
        let startPos = bisectLeft(span.lowerBound)
        let endPos = bisectLeft(span.upperBound)
        guard startPos < offsets.count, offsets[startPos].lowerBound <= span.lowerBound,
            span.lowerBound < offsets[startPos].upperBound
        else { continue }
        let stop = endPos != 0 ? endPos : mask.count
        var t = startPos
        while t < stop && t < mask.count {
            mask[t] = 1
            t += 1
        }
    }
    return mask
}
