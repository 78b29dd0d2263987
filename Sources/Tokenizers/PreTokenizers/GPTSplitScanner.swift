/// A hand-written matcher for the three split regexes byte-level BPE vocabularies use, far faster
/// than a general regex engine:
///
/// - GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - cl100k / Llama-3 (`\p{N}{1,3}`) and Qwen2 (`\p{N}`):
///   `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
///
/// Each alternative is tried in order at the current position, exactly as the backtracking
/// engine (Oniguruma, used by HF) would, and the first that matches wins.
struct GPTSplitScanner: Sendable {
    enum Flavor: Sendable {
        case gpt2
        /// cl100k-style; `maxDigits` is 3 for cl100k/Llama-3 and 1 for Qwen2.
        case cl100k(maxDigits: Int)
    }

    let flavor: Flavor

    static let gpt2Pattern =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let cl100kPattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The scanner for a pattern string, if it is one of the known ones.
    init?(pattern: String) {
        switch pattern {
        case Self.gpt2Pattern: flavor = .gpt2
        case Self.cl100kPattern: flavor = .cl100k(maxDigits: 3)
        case Self.qwen2Pattern: flavor = .cl100k(maxDigits: 1)
        default: return nil
        }
    }

    init(flavor: Flavor) { self.flavor = flavor }

    /// All matches in `text`, in order; together they cover every scalar.
    func matches(in text: AlignedText) -> [Range<Int>] {
        let n = text.count
        var classes = [ScalarClass](repeating: .other, count: n)
        var scalars = [UInt32](repeating: 0, count: n)
        for k in 0..<n {
            let s = text.scalar(k)
            scalars[k] = s.value
            classes[k] = ScalarClass.of(s)
        }
        var out: [Range<Int>] = []
        out.reserveCapacity(n / 4 + 1)
        var i = 0
        while i < n {
            let end: Int
            switch flavor {
            case .gpt2: end = matchGPT2(at: i, scalars, classes)
            case let .cl100k(maxDigits): end = matchCL100K(at: i, scalars, classes, maxDigits: maxDigits)
            }
            out.append(i..<end)
            i = end
        }
        return out
    }

    /// Length of an English contraction (`'s`, `'re`…) at `i`, or 0.
    @inline(__always)
    private func contraction(at i: Int, _ s: [UInt32], caseInsensitive: Bool) -> Int {
        guard s[i] == 0x27, i + 1 < s.count else { return 0 }
        func lower(_ v: UInt32) -> UInt32 {
            guard caseInsensitive else { return v }
            if (0x41...0x5A).contains(v) { return v + 32 }
            if v == 0x17F { return 0x73 }  // ſ folds to s under (?i)
            return v
        }
        let a = lower(s[i + 1])
        switch a {
        case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
        case 0x72, 0x76:  // r v -> e
            if i + 2 < s.count && lower(s[i + 2]) == 0x65 { return 3 }
        case 0x6C:  // l -> l
            if i + 2 < s.count && lower(s[i + 2]) == 0x6C { return 3 }
        default: break
        }
        return 0
    }

    @inline(__always)
    private func run(from i: Int, _ classes: [ScalarClass], _ c: ScalarClass) -> Int {
        var j = i
        while j < classes.count && classes[j] == c { j += 1 }
        return j
    }

    @inline(__always)
    private func isOther(_ c: ScalarClass) -> Bool { c == .other }

    /// End of `\s+(?!\S)|\s+` at a whitespace scalar `i`.
    @inline(__always)
    private func whitespaceEnd(at i: Int, _ classes: [ScalarClass]) -> Int {
        let j = run(from: i, classes, .whitespace)
        // `\s+(?!\S)` backs off one scalar when non-space text follows, leaving it to start the
        // next piece (so " word" keeps its space); a lone space then falls to `\s+`.
        if j < classes.count && j - 1 > i { return j - 1 }
        return j
    }

    private func matchGPT2(at i: Int, _ s: [UInt32], _ classes: [ScalarClass]) -> Int {
        let n = s.count
        let c = contraction(at: i, s, caseInsensitive: false)
        if c > 0 { return i + c }
        var k = i
        if s[i] == 0x20 && i + 1 < n && classes[i + 1] != .whitespace { k = i + 1 }
        switch classes[k] {
        case .letter: return run(from: k, classes, .letter)
        case .number: return run(from: k, classes, .number)
        case .other: return run(from: k, classes, .other)
        case .whitespace: return whitespaceEnd(at: i, classes)
        }
    }

    private func matchCL100K(at i: Int, _ s: [UInt32], _ classes: [ScalarClass], maxDigits: Int) -> Int {
        let n = s.count
        let c = contraction(at: i, s, caseInsensitive: true)
        if c > 0 { return i + c }
        let cls = classes[i]
        let isCRLF = s[i] == 0x0A || s[i] == 0x0D
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if cls == .letter { return run(from: i, classes, .letter) }
        if cls != .number && !isCRLF && i + 1 < n && classes[i + 1] == .letter {
            return run(from: i + 1, classes, .letter)
        }
        // \p{N}{1,maxDigits}
        if cls == .number {
            var j = i + 1
            while j < n && j - i < maxDigits && classes[j] == .number { j += 1 }
            return j
        }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        var k = i
        if s[i] == 0x20 && i + 1 < n && classes[i + 1] == .other { k = i + 1 }
        if classes[k] == .other {
            var j = run(from: k, classes, .other)
            while j < n && (s[j] == 0x0A || s[j] == 0x0D) { j += 1 }
            return j
        }
        // Only whitespace is left. \s*[\r\n]+ : up to the last CR/LF of the whitespace run.
        let j = run(from: i, classes, .whitespace)
        var last = j - 1
        while last >= i && s[last] != 0x0A && s[last] != 0x0D { last -= 1 }
        if last >= i { return last + 1 }
        return whitespaceEnd(at: i, classes)
    }
}
