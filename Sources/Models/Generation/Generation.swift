import NN
import Torch

/// How `generate` picks tokens (transformers' `generate` semantics).
public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    /// 0 means greedy decoding; otherwise logits are divided by it before sampling.
    public var temperature: Double
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches `topP` (1 = off).
    public var topP: Double
    /// Generation stops for a row when it produces one of these.
    public var eosTokenIds: Set<Int>
    /// Fills finished rows and the left padding of the prompt.
    public var padTokenId: Int
    public var seed: UInt64

    public init(maxNewTokens: Int = 128, temperature: Double = 0, topP: Double = 1, eosTokenIds: Set<Int> = [],
                padTokenId: Int = 0, seed: UInt64 = 0) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topP = topP
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
        self.seed = seed
    }
}

extension VisionLanguageModel {
    /// Continues each prompt (token ids with image tokens already expanded to `imageFeatureCount`
    /// per image) and returns the new tokens per row, up to and including the first EOS.
    /// Prompts are left-padded into one batch; position ids count only real tokens, as transformers
    /// derives them from the attention mask. Keys and values are cached, so each step runs one token.
    /// - Parameters:
    ///   - pixelValues: every image of every prompt, in row order, `[N, C, H, W]`.
    ///   - onToken: called with (row, token) for each token as it is generated, for streaming.
    public func generate(prompts: [[Int]], pixelValues: Tensor?, options: GenerationOptions,
                         onToken: (_ row: Int, _ token: Int) -> Void = { _, _ in }) throws -> [[Int]] {
        guard !prompts.isEmpty else { return [] }
        let b = prompts.count
        let width = prompts.map(\.count).max() ?? 0
        var ids: [Int] = []
        var mask: [Int] = []
        for p in prompts {
            ids += Array(repeating: options.padTokenId, count: width - p.count) + p
            mask += Array(repeating: 0, count: width - p.count) + Array(repeating: 1, count: p.count)
        }
        let dev = device
        let inputIds = Tensor(ids, shape: [b, width]).to(device: dev)
        var attention = Tensor(mask, shape: [b, width]).to(device: dev)
        let rng = Generator(seed: options.seed)

        return try Autograd.noGrad {
            // The whole generation fits: no buffer ever grows or copies its history.
            let cache = KVCache(layers: languageModel.config.numHiddenLayers, capacity: width + options.maxNewTokens)
            // Prefill: position = (number of real tokens so far) - 1; padding gets 1, as transformers.
            var positions = attention.cumsum(dim: 1) - 1
            positions = positions.maskedFill(attention.eq(0), 1)
            var embeds = try inputEmbeddings(inputIds: inputIds, pixelValues: pixelValues)
            var hidden = languageModel.hiddenStates(
                inputsEmbeds: embeds, positions: positions,
                mask: AttentionMask.causal(keyMask: attention, queryLength: width), cache: cache)
            var outputs = Array(repeating: [Int](), count: b)
            var finished = Array(repeating: false, count: b)
            for step in 0..<options.maxNewTokens {
                let last = languageModel.logits(hidden.select(1, hidden.size(1) - 1)).to(.float32)  // [B, V]
                let next: [Int] = pick(last, options: options, rng: rng).toArray()
                var fed = next
                for r in 0..<b {
                    if finished[r] {
                        fed[r] = options.padTokenId
                        continue
                    }
                    outputs[r].append(next[r])
                    onToken(r, next[r])
                    if options.eosTokenIds.contains(next[r]) { finished[r] = true }
                }
                if finished.allSatisfy({ $0 }) || step == options.maxNewTokens - 1 { break }
                let token = Tensor(fed, shape: [b, 1]).to(device: dev)
                attention = Tensor.cat([attention, Tensor.ones([b, 1], dtype: attention.dtype, device: dev)], dim: 1)
                positions = (attention.sum(dim: 1, keepDim: true) - 1)
                embeds = languageModel.embedTokens(token)
                // One query at the last position: causality allows every key, and the fed token
                // itself is never masked, so the mask is the key mask (what AttentionMask.causal
                // returns here, in 2 ops instead of 13).
                hidden = languageModel.hiddenStates(
                    inputsEmbeds: embeds, positions: positions,
                    mask: attention.to(.bool).view(b, 1, 1, attention.size(1)), cache: cache)
            }
            return outputs
        }
    }

    /// Greedy argmax, or temperature + top-p sampling (transformers' warper order).
    func pick(_ logits: Tensor, options: GenerationOptions, rng: Generator) -> Tensor {
        if options.temperature <= 0 { return logits.argmax(dim: -1) }
        var scores = logits / options.temperature
        if options.topP < 1 {
            // Sort ascending; drop tokens whose cumulative probability stays within 1 - top_p,
            // always keeping the most likely one.
            let (sorted, order) = scores.sort(dim: -1, descending: false)
            let cumulative = sorted.softmax(dim: -1).cumsum(dim: -1)
            let remove = cumulative.le(Scalar(1 - options.topP))
            remove.narrow(-1, start: remove.size(-1) - 1, length: 1).fill_(false)
            let removeByToken = remove.scatter(-1, order, remove)
            scores = scores.maskedFill(removeByToken, Scalar(-Double.infinity))
        }
        return scores.softmax(dim: -1).multinomial(1, generator: rng).squeeze(-1)
    }
}
