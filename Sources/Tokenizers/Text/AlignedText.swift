/// One scalar of an `AlignedText` with the range of original scalars it stems from.
struct AlignedCell: Sendable {
    var scalar: Unicode.Scalar
    /// First original scalar index.
    var start: Int32
    /// One past the last original scalar index.
    var end: Int32
}

/// A run of (possibly normalised or rewritten) text, each scalar remembering which scalars of the
/// caller's original input it came from. Offsets reported by `Encoding` are read from here, so every
/// stage that rewrites text (Prepend, Replace, NFC, Metaspace…) rewrites the alignment with it.
///
/// Scalars and alignment share one buffer, and slices share it with the text they were cut from,
/// so splitting is free and passing pieces around costs one reference count.
struct AlignedText: Sendable {
    var cells: ArraySlice<AlignedCell>

    init(cells: ArraySlice<AlignedCell>) { self.cells = cells }

    /// Unmodified original text whose first scalar sits at `base` in the caller's input.
    init(original: ArraySlice<Unicode.Scalar>, base: Int) {
        var cells: [AlignedCell] = []
        cells.reserveCapacity(original.count)
        var i = Int32(base)
        for s in original {
            cells.append(AlignedCell(scalar: s, start: i, end: i + 1))
            i += 1
        }
        self.cells = cells[...]
    }

    var count: Int { cells.count }
    var isEmpty: Bool { cells.isEmpty }

    /// The scalars, in order.
    var scalars: LazyMapSequence<ArraySlice<AlignedCell>, Unicode.Scalar> { cells.lazy.map(\.scalar) }

    /// The scalar at position `i` counted from the start of this slice.
    @inline(__always) func scalar(_ i: Int) -> Unicode.Scalar { cells[cells.startIndex + i].scalar }
    /// First original index of position `i`.
    @inline(__always) func start(_ i: Int) -> Int32 { cells[cells.startIndex + i].start }
    /// One past the last original index of position `i`.
    @inline(__always) func end(_ i: Int) -> Int32 { cells[cells.startIndex + i].end }

    /// A sub-range, in positions counted from the start of this slice.
    func slice(_ range: Range<Int>) -> AlignedText {
        let s = cells.startIndex
        return AlignedText(cells: cells[(s + range.lowerBound)..<(s + range.upperBound)])
    }

    /// Original range covered by positions `range` (non-empty) of this slice.
    func originalRange(_ range: Range<Int>) -> Range<Int> {
        let lo = Int(start(range.lowerBound))
        let hi = Int(end(range.upperBound - 1))
        return lo..<max(lo, hi)
    }

    /// The original range of the whole slice; an empty slice has none.
    var originalRange: Range<Int>? { isEmpty ? nil : originalRange(0..<count) }

    /// The text's UTF-8 bytes.
    func utf8() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for c in cells { appendUTF8(c.scalar, to: &out) }
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
    var cells: [AlignedCell] = []

    init(capacity: Int) { cells.reserveCapacity(capacity) }

    mutating func append(_ s: Unicode.Scalar, start: Int32, end: Int32) {
        cells.append(AlignedCell(scalar: s, start: start, end: end))
    }

    func build() -> AlignedText { AlignedText(cells: cells[...]) }
}
