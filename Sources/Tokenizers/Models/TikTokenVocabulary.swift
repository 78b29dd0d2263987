#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Tokenizer {
    /// Qwen2's special tokens, which follow the 151,643 ranks of `qwen.tiktoken`.
    public static let qwen2SpecialTokens: [(String, Int)] = [
        ("<|endoftext|>", 151_643), ("<|im_start|>", 151_644), ("<|im_end|>", 151_645),
    ]

    /// Loads a tiktoken rank file (`base64-token rank` per line, e.g. Qwen's `qwen.tiktoken`) as
    /// byte-level BPE with Qwen2's pipeline. Ranks become ids; merges are every split of a token
    /// into two tokens, ranked by the merged token (tiktoken merges the lowest-ranked pair first).
    public convenience init(tiktokenFile path: String,
                            specialTokens: [(String, Int)] = Tokenizer.qwen2SpecialTokens) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.unreadableFile(file: path, reason: "\(error)")
        }
        var ranked: [(bytes: [UInt8], rank: Int)] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            let parts = line.split(separator: UInt8(ascii: " "))
            guard parts.count == 2,
                  let raw = Data(base64Encoded: Data(parts[0])),
                  let rank = Int(String(decoding: parts[1], as: UTF8.self)), rank >= 0, rank < 1 << 30 else {
                throw TokenizerError.malformedVocabulary(file: path, reason: "line \(lineNumber): expected 'base64 rank'")
            }
            ranked.append(([UInt8](raw), rank))
        }
        var rankOf: [ByteKey: Int] = [:]
        rankOf.reserveCapacity(ranked.count)
        for (b, r) in ranked { rankOf[ByteKey(b)] = r }

        var merges: [(left: [UInt8], right: [UInt8], rank: Int, lr: Int, rr: Int)] = []
        merges.reserveCapacity(ranked.count * 2)
        for (bytes, rank) in ranked where bytes.count > 1 {
            for cut in 1..<bytes.count {
                let l = Array(bytes[..<cut]), r = Array(bytes[cut...])
                if let lr = rankOf[ByteKey(l)], let rr = rankOf[ByteKey(r)] {
                    merges.append((l, r, rank, lr, rr))
                }
            }
        }
        merges.sort { a, b in
            if a.rank != b.rank { return a.rank < b.rank }
            if a.lr != b.lr { return a.lr < b.lr }
            return a.rr < b.rr
        }
        let vocab: JSONValue = .object(ranked.map { (ByteLevelAlphabet.string(of: $0.bytes), .integer($0.rank)) })
        let mergeJSON: JSONValue = .array(merges.map {
            .array([.string(ByteLevelAlphabet.string(of: $0.left)), .string(ByteLevelAlphabet.string(of: $0.right))])
        })
        let added = specialTokens.map { AddedToken(id: $0.1, content: $0.0, normalized: false, special: true) }
        let json = PipelineTemplates.qwen2(vocab: vocab, merges: mergeJSON, addedTokens: added)
        var config = TokenizerConfig()
        if let eos = specialTokens.first?.0 {
            config.eosToken = .init(content: eos)
            config.padToken = .init(content: eos)
        }
        try self.init(tokenizerJSON: json, file: path, config: config, configFile: path)
    }
}
