/// An immutable open-addressing hash map from packed token pairs to packed merge results. The
/// merge loop looks pairs up constantly; a multiplicative hash with linear probing is several
/// times cheaper than `Dictionary`'s seeded SipHash.
struct PairTable: Sendable {
    private let keys: [UInt64]
    private let values: [UInt64]
    private let shift: UInt64
    private let mask: Int
    /// No real pair packs to this (ids are below 2³¹).
    private static let empty = UInt64.max

    /// Builds from pairs; for a repeated key the first value is kept.
    init(_ pairs: [(UInt64, UInt64)]) {
        var capacity = 16
        while capacity < pairs.count * 2 { capacity <<= 1 }
        var keys = [UInt64](repeating: Self.empty, count: capacity)
        var values = [UInt64](repeating: 0, count: capacity)
        let shift = UInt64(64 - capacity.trailingZeroBitCount)
        let mask = capacity - 1
        for (k, v) in pairs {
            var i = Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while keys[i] != Self.empty && keys[i] != k { i = (i + 1) & mask }
            if keys[i] == Self.empty {
                keys[i] = k
                values[i] = v
            }
        }
        self.keys = keys
        self.values = values
        self.shift = shift
        self.mask = mask
    }

    @inline(__always) subscript(key: UInt64) -> UInt64? {
        var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }
}
