/// Raw bytes as a dictionary key. Token strings are compared by bytes, never by `String ==`,
/// which treats canonically equivalent spellings as equal and would merge distinct tokens.
struct ByteKey: Hashable, Sendable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(_ string: String) { bytes = Array(string.utf8) }

    static func == (a: ByteKey, b: ByteKey) -> Bool { a.bytes == b.bytes }

    /// Folds the bytes eight at a time with a multiply-rotate mix and hands the Hasher one word:
    /// seeded SipHash over every byte was a tenth of encoding time (cache lookups per piece).
    func hash(into hasher: inout Hasher) {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        bytes.withUnsafeBytes { raw in
            var i = 0
            let n = raw.count
            while i + 8 <= n {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                h = ((h ^ w) &* 0xBF58_476D_1CE4_E5B9).rotatedLeft(by: 27)
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(raw[i]) << shift
                shift += 8
                i += 1
            }
            h = ((h ^ tail) &* 0x94D0_49BB_1331_11EB).rotatedLeft(by: 31)
        }
        hasher.combine(h)
    }
}

extension UInt64 {
    @inline(__always) func rotatedLeft(by k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}
