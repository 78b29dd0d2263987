/// Maps byte-alphabet characters back to bytes and decodes the whole run as UTF-8 (invalid
/// sequences become U+FFFD). A token with characters outside the alphabet (an added token such
/// as a CJK word) contributes its own UTF-8, as HF does.
struct ByteLevelDecoder: TokenDecoder {
    func decodeChain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens {
            if let raw = ByteLevelAlphabet.bytes(of: token) {
                bytes.append(contentsOf: raw)
            } else {
                bytes.append(contentsOf: token.utf8)
            }
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}
