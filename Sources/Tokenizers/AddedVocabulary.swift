/// The added tokens and the two tries that find them: one over the raw input (tokens with
/// `normalized: false`) and one over normalised text (`normalized: true`, whose patterns are the
/// normalised contents, as HF builds them). Matching is leftmost-longest.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    let idByContent: [ByteKey: Int]
    let tokenByID: [Int: AddedToken]
    let specialIDs: Set<Int>
    private let rawTrie: ScalarTrie
    private let normalizedTrie: ScalarTrie

    init(tokens: [AddedToken], normalizer: (any Normalizer)?) {
        self.tokens = tokens
        var idByContent: [ByteKey: Int] = [:]
        var tokenByID: [Int: AddedToken] = [:]
        var raw = ScalarTrie(), norm = ScalarTrie()
        for (index, t) in tokens.enumerated() {
            idByContent[ByteKey(t.content)] = t.id
            tokenByID[t.id] = t
            let scalars = Array(t.content.unicodeScalars)
            if t.normalized, let normalizer {
                let n = normalizer.normalize(AlignedText(original: scalars[...], base: 0))
                norm.insert(Array(n.scalars), value: index)
            } else if t.normalized {
                norm.insert(scalars, value: index)
            } else {
                raw.insert(scalars, value: index)
            }
        }
        self.idByContent = idByContent
        self.tokenByID = tokenByID
        self.specialIDs = Set(tokens.filter(\.special).map(\.id))
        rawTrie = raw
        normalizedTrie = norm
    }

    /// A piece of text after added-token splitting: either an added token or plain text.
    enum Split {
        case token(AddedToken, Range<Int>)
        case text(Range<Int>)
    }

    /// Splits with the raw-input tokens (`normalized == false`).
    func splitRaw(_ text: AlignedText) -> [Split] { split(text, trie: rawTrie) }

    /// Splits with the normalised-text tokens.
    func splitNormalized(_ text: AlignedText) -> [Split] { split(text, trie: normalizedTrie) }

    private func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        s == "_" || ScalarClass.of(s) == .letter || ScalarClass.of(s) == .number
    }

    private func split(_ text: AlignedText, trie: ScalarTrie) -> [Split] {
        let n = text.count
        guard !trie.isEmpty, n > 0 else { return [.text(0..<n)] }
        var out: [Split] = []
        var cursor = 0  // end of the last emitted split
        var i = 0
        while i < n {
            guard let (index, length) = trie.longestMatch(in: text, at: i) else { i += 1; continue }
            let token = tokens[index]
            var start = i, stop = i + length
            if token.singleWord {
                let startOK = start == 0 || !isWordScalar(text.scalar(start - 1))
                let stopOK = stop == n || !isWordScalar(text.scalar(stop))
                if !(startOK && stopOK) { i += 1; continue }
            }
            if token.lstrip {
                var s = start
                while s > cursor && isWhitespace(text.scalar(s - 1)) { s -= 1 }
                start = s
            }
            if token.rstrip {
                while stop < n && isWhitespace(text.scalar(stop)) { stop += 1 }
            }
            if cursor < start { out.append(.text(cursor..<start)) }
            out.append(.token(token, start..<stop))
            cursor = stop
            i = stop
        }
        if cursor < n { out.append(.text(cursor..<n)) }
        return out
    }
}

/// A trie over Unicode scalars mapping patterns to values.
struct ScalarTrie: Sendable {
    private var children: [[UInt32: Int32]] = [[:]]
    private var values: [Int32] = [-1]
    /// First scalars of all patterns, for a cheap rejection on most positions: a bitmap for
    /// ASCII, a set for the rest.
    private var firstASCII: (UInt64, UInt64) = (0, 0)
    private var firstOther: Set<UInt32> = []

    var isEmpty: Bool { firstASCII == (0, 0) && firstOther.isEmpty }

    @inline(__always) private func mayStart(_ v: UInt32) -> Bool {
        if v < 64 { return firstASCII.0 & (1 << UInt64(v)) != 0 }
        if v < 128 { return firstASCII.1 & (1 << UInt64(v - 64)) != 0 }
        return !firstOther.isEmpty && firstOther.contains(v)
    }

    mutating func insert(_ pattern: [Unicode.Scalar], value: Int) {
        guard let first = pattern.first else { return }
        let v = first.value
        if v < 64 {
            firstASCII.0 |= 1 << UInt64(v)
        } else if v < 128 {
            firstASCII.1 |= 1 << UInt64(v - 64)
        } else {
            firstOther.insert(v)
        }
        var node = 0
        for s in pattern {
            if let child = children[node][s.value] {
                node = Int(child)
            } else {
                children.append([:])
                values.append(-1)
                let child = children.count - 1
                children[node][s.value] = Int32(child)
                node = child
            }
        }
        // The first registration of a content wins.
        if values[node] < 0 { values[node] = Int32(value) }
    }

    /// The longest pattern starting at `i`: (value, length).
    func longestMatch(in text: AlignedText, at i: Int) -> (Int, Int)? {
        guard mayStart(text.scalar(i).value) else { return nil }
        var node = 0
        var best: (Int, Int)? = nil
        var k = i
        while k < text.count, let child = children[node][text.scalar(k).value] {
            node = Int(child)
            k += 1
            if values[node] >= 0 { best = (Int(values[node]), k - i) }
        }
        return best
    }
}
