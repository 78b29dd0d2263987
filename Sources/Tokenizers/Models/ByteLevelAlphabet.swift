/// GPT-2's reversible byte ↔ printable-character mapping: printable Latin-1 bytes stand for
/// themselves, the other 68 bytes take U+0100… in byte order (so space is `Ġ`, newline `Ċ`).
enum ByteLevelAlphabet {
    /// Character for each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(next) ?? " "
                next += 1
            }
        }
        return table
    }()

    /// Byte for a character of the alphabet, nil for any other character.
    static func byte(for s: Unicode.Scalar) -> UInt8? {
        let v = s.value
        guard v < 0x144 else { return nil }
        return byteForScalar[Int(v)]
    }

    private static let byteForScalar: [UInt8?] = {
        var table = [UInt8?](repeating: nil, count: 0x144)
        for (b, s) in scalarForByte.enumerated() { table[Int(s.value)] = UInt8(b) }
        return table
    }()

    /// The bytes a byte-level token string stands for, or nil if it has foreign characters.
    static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = byte(for: s) else { return nil }
            out.append(b)
        }
        return out
    }

    /// The alphabet spelling of raw bytes.
    static func string(of bytes: [UInt8]) -> String {
        var view = String.UnicodeScalarView()
        for b in bytes { view.append(scalarForByte[Int(b)]) }
        return String(view)
    }
}
