/// A run of (possibly normalised or rewritten) text, each scalar remembering which scalars of the
/// caller's original input it came from. Offsets reported by `Encoding` are read from here, so every
/// stage that rewrites text (Prepend, Replace, NFC, Metaspace…) rewrites the alignment with it.
///
/// Slices share storage with the text they were cut from, so splitting is free.
struct AlignedText: Sendable {
    /// The current text, one element per Unicode scalar.
    var scalars: ArraySlice<Unicode.Scalar>
    /// For each scalar, the first original scalar index it stems from.
    var starts: ArraySlice<Int32>
    /// For each scalar, one past the last original scalar index it stems from.
    var ends: ArraySlice<Int32>

    init(scalars: ArraySlice<Unicode.Scalar>, starts: ArraySlice<Int32>, ends: ArraySlice<Int32>) {
        self.scalars = scalars
        self.starts = starts
        self.ends = ends
    }

    init(scalars: [Unicode.Scalar], starts: [Int32], ends: [Int32]) {
        self.init(scalars: scalars[...], starts: starts[...], ends: ends[...])
    }

    /// Unmodified original text whose first scalar sits at `base` in the caller's input.
    init(original: ArraySlice<Unicode.Scalar>, base: Int) {
        let n = original.count
        var starts = [Int32](repeating: 0, count: n)
        var ends = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            starts[i] = Int32(base + i)
            ends[i] = Int32(base + i + 1)
        }
        self.init(scalars: original, starts: starts[...], ends: ends[...])
    }

    var count: Int { scalars.count }
    var isEmpty: Bool { scalars.isEmpty }

    /// The scalar at position `i` counted from the start of this slice.
    @inline(__always) func scalar(_ i: Int) -> Unicode.Scalar { scalars[scalars.startIndex + i] }

    /// A sub-range, in positions counted from the start of this slice.
    func slice(_ range: Range<Int>) -> AlignedText {
        let s = scalars.startIndex, a = starts.startIndex, e = ends.startIndex
        return AlignedText(scalars: scalars[(s + range.lowerBound)..<(s + range.upperBound)],
                           starts: starts[(a + range.lowerBound)..<(a + range.upperBound)],
                           ends: ends[(e + range.lowerBound)..<(e + range.upperBound)])
    }

    /// Original range covered by positions `range` (non-empty) of this slice.
    func originalRange(_ range: Range<Int>) -> Range<Int> {
        let lo = Int(starts[starts.startIndex + range.lowerBound])
        let hi = Int(ends[ends.startIndex + range.upperBound - 1])
        return lo..<max(lo, hi)
    }

    /// The original range of the whole slice; an empty slice has none.
    var originalRange: Range<Int>? { isEmpty ? nil : originalRange(0..<count) }

    /// The text's UTF-8 bytes.
    func utf8() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for s in scalars { appendUTF8(s, to: &out) }
        return out
    }
}

/// Appends the UTF-8 encoding of `s`.
@inline(__always) func appendUTF8(_ s: Unicode.Scalar, to out: inout [UInt8]) {
    let v = s.value
    if v < 0x80 {
        out.append(UInt8(v))
    } else if v < 0x800 {
        out.append(UInt8(0xC0 | (v >> 6)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    } else if v < 0x10000 {
        out.append(UInt8(0xE0 | (v >> 12)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    } else {
        out.append(UInt8(0xF0 | (v >> 18)))
        out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    }
}

/// Number of UTF-8 bytes of `s`.
@inline(__always) func utf8Length(_ s: Unicode.Scalar) -> Int {
    let v = s.value
    return v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4
}

/// Builds an `AlignedText` scalar by scalar while rewriting another one.
struct AlignedTextBuilder {
    var scalars: [Unicode.Scalar] = []
    var starts: [Int32] = []
    var ends: [Int32] = []

    init(capacity: Int) {
        scalars.reserveCapacity(capacity)
        starts.reserveCapacity(capacity)
        ends.reserveCapacity(capacity)
    }

    mutating func append(_ s: Unicode.Scalar, start: Int32, end: Int32) {
        scalars.append(s)
        starts.append(start)
        ends.append(end)
    }

    func build() -> AlignedText { AlignedText(scalars: scalars, starts: starts, ends: ends) }
}
