/// What happens to the matched delimiters when a piece is split (`behavior` in tokenizer.json).
enum SplitBehavior: String, Codable, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// Splits `piece` at the sorted, non-overlapping `matches` and appends the non-empty results.
    /// With `invert`, the matches are the pieces to keep and the gaps are the delimiters.
    func apply(_ piece: AlignedText, matches: [Range<Int>], invert: Bool = false,
               into out: inout [AlignedText]) {
        // Alternate gap / match spans covering the piece, each flagged "is delimiter".
        var spans: [(Range<Int>, Bool)] = []
        spans.reserveCapacity(matches.count * 2 + 1)
        var cursor = 0
        for m in matches {
            if m.lowerBound > cursor { spans.append((cursor..<m.lowerBound, invert)) }
            if !m.isEmpty { spans.append((m, !invert)) }
            cursor = m.upperBound
        }
        if cursor < piece.count { spans.append((cursor..<piece.count, invert)) }

        switch self {
        case .removed:
            for (r, isDelimiter) in spans where !isDelimiter { out.append(piece.slice(r)) }
        case .isolated:
            for (r, _) in spans { out.append(piece.slice(r)) }
        case .mergedWithPrevious:
            // A delimiter joins the piece before it unless that was a delimiter too.
            var acc: [Range<Int>] = []
            var previousMatch = false
            for (r, isDelimiter) in spans {
                if isDelimiter && !previousMatch, let last = acc.last {
                    acc[acc.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    acc.append(r)
                }
                previousMatch = isDelimiter
            }
            for r in acc { out.append(piece.slice(r)) }
        case .mergedWithNext:
            // Mirror image: walk backwards, a delimiter joins the piece after it.
            var acc: [Range<Int>] = []
            var previousMatch = false
            for (r, isDelimiter) in spans.reversed() {
                if isDelimiter && !previousMatch, let last = acc.last {
                    acc[acc.count - 1] = r.lowerBound..<last.upperBound
                } else {
                    acc.append(r)
                }
                previousMatch = isDelimiter
            }
            for r in acc.reversed() { out.append(piece.slice(r)) }
        case .contiguous:
            // Runs of touching delimiters become one piece.
            var acc: [Range<Int>] = []
            var previousMatch = false
            for (r, isDelimiter) in spans {
                if isDelimiter == previousMatch, let last = acc.last {
                    acc[acc.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    acc.append(r)
                }
                previousMatch = isDelimiter
            }
            for r in acc { out.append(piece.slice(r)) }
        }
    }
}
