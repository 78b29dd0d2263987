/// Unicode lowercasing (full case mapping, as Rust's `char::to_lowercase`).
struct LowercaseNormalizer: Normalizer {
    func normalize(_ text: AlignedText) -> AlignedText {
        var out = AlignedTextBuilder(capacity: text.count)
        for k in 0..<text.count {
            let s = text.scalar(k)
            let a = text.start(k), e = text.end(k)
            if s.value < 0x80 {
                let v = s.value
                out.append((0x41...0x5A).contains(v) ? Unicode.Scalar(UInt8(v + 32)) : s, start: a, end: e)
            } else {
                for l in s.properties.lowercaseMapping.unicodeScalars { out.append(l, start: a, end: e) }
            }
        }
        return out.build()
    }
}
