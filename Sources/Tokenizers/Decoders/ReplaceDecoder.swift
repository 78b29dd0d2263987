/// Replaces a literal string in every token (Llama-2's `Replace("▁", " ")`).
struct ReplaceDecoder: TokenDecoder {
    let normalizer: ReplaceNormalizer

    init(config: ReplaceNormalizer.Config, file: String, path: String) throws {
        normalizer = try ReplaceNormalizer(config: config, file: file, path: path)
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let scalars = Array(token.unicodeScalars)
            let text = normalizer.normalize(AlignedText(original: scalars[...], base: 0))
            var view = String.UnicodeScalarView()
            view.append(contentsOf: text.scalars)
            return String(view)
        }
    }
}
