/// Removes up to `start` copies of `content` from the front of each token and up to `stop` from
/// its end (Llama-2's `Strip(" ", 1, 0)` drops the space the prepended `▁` became).
struct StripDecoder: TokenDecoder {
    struct Config: Codable, Sendable {
        var content: String
        var start: Int
        var stop: Int
        enum CodingKeys: String, CodingKey { case content, start, stop }
    }

    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    init(config: Config, file: String, path: String) throws {
        guard let c = config.content.unicodeScalars.first, config.content.unicodeScalars.count == 1 else {
            throw TokenizerError.invalidField(file: file, field: path + ".content", reason: "must be one character")
        }
        guard config.start >= 0, config.stop >= 0 else {
            throw TokenizerError.invalidField(file: file, field: path, reason: "start/stop must not be negative")
        }
        content = c
        start = config.start
        stop = config.stop
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let scalars = Array(token.unicodeScalars)
            var lo = 0, hi = scalars.count
            while lo < hi && lo < start && scalars[lo] == content { lo += 1 }
            var removed = 0
            while hi > lo && removed < stop && scalars[hi - 1] == content { hi -= 1; removed += 1 }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[lo..<hi])
            return String(view)
        }
    }
}
