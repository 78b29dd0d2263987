/// Turns `▁` back into spaces. When encoding prepends `▁` (scheme `always`/`first`), every `▁` of
/// the first token is dropped instead — HF's exact rule, which also removes the prepended one.
struct MetaspaceDecoder: TokenDecoder {
    let replacement: Unicode.Scalar
    let dropInFirst: Bool

    init(config: MetaspacePreTokenizer.Config, file: String, path: String) throws {
        guard let r = config.replacement.unicodeScalars.first, config.replacement.unicodeScalars.count == 1 else {
            throw TokenizerError.invalidField(file: file, field: path + ".replacement", reason: "must be one character")
        }
        replacement = r
        dropInFirst = config.prependScheme != .never
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, token in
            var view = String.UnicodeScalarView()
            for s in token.unicodeScalars {
                if s == replacement {
                    if !(i == 0 && dropInFirst) { view.append(" ") }
                } else {
                    view.append(s)
                }
            }
            return String(view)
        }
    }
}
