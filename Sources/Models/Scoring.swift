import NN
import Torch

/// Scoring written once for every family: the decoder runs over the merged embeddings.
extension VisionLanguageModel {
    public var dtype: DType { languageModel.embedTokens.weight.value.dtype }
    public var device: Device { languageModel.embedTokens.weight.value.device }

    /// Logits `[B, T, V]` for a right-padded batch (`attentionMask` 1 = token, 0 = padding), with
    /// position ids 0..<T as transformers uses when none are given.
    public func forward(inputIds: Tensor, attentionMask: Tensor?, pixelValues: Tensor?) throws -> Tensor {
        languageModel.logits(try finalHiddenStates(inputIds: inputIds, attentionMask: attentionMask, pixelValues: pixelValues))
    }

    /// The decoder's final hidden states `[B, T, hidden]` (before the output layer).
    public func finalHiddenStates(inputIds: Tensor, attentionMask: Tensor?, pixelValues: Tensor?) throws -> Tensor {
        let embeds = try inputEmbeddings(inputIds: inputIds, pixelValues: pixelValues)
        let (b, t) = (inputIds.size(0), inputIds.size(1))
        let positions = Tensor.arange(0, Scalar(t), device: device).unsqueeze(0).expand(b, t)
        // Like transformers with SDPA: without padding, plain causal attention (the fast kernels)
        // instead of an explicit mask; the result is the same.
        let padded = attentionMask.map { $0.eq(0).any().item().boolValue } ?? false
        let mask = padded ? attentionMask.map { AttentionMask.causal(keyMask: $0, queryLength: t) } : nil
        return languageModel.hiddenStates(inputsEmbeds: embeds, positions: positions, mask: mask)
    }

    /// Per-sequence log-probabilities `[B]` (sum over label positions, causal shift), computing the
    /// output layer and softmax only at the scored positions: the same numbers as
    /// `SequenceLogProbs.compute(logits: forward(…), labels:)` without the `[B, T, V]` logits, which
    /// dominate time and memory when responses are short next to prompts and image tokens.
    public func sequenceLogProbs(inputIds: Tensor, attentionMask: Tensor?, pixelValues: Tensor?, labels: Tensor,
                                 ignoreIndex: Int = -100) throws -> Tensor {
        let hidden = try finalHiddenStates(inputIds: inputIds, attentionMask: attentionMask, pixelValues: pixelValues)
        let (b, t, h) = (hidden.size(0), hidden.size(1), hidden.size(2))
        let targets = labels.narrow(1, start: 1, length: t - 1).reshape(-1)  // [B·(T-1)]
        let scored = targets.ne(Scalar(ignoreIndex)).nonzero().squeeze(1)  // flat indices of scored positions
        let rows = hidden.narrow(1, start: 0, length: t - 1).reshape(-1, h).indexSelect(0, scored)  // [K, H]
        let logits = languageModel.logits(rows).to(.float32)  // [K, V]
        let logp = Functional.crossEntropy(logits, target: targets.indexSelect(0, scored), reduction: .none).neg()  // [K]
        let rowOf = Tensor.arange(0, Scalar(b), device: hidden.device).unsqueeze(1).expand(b, t - 1).reshape(-1)
        let owner = rowOf.indexSelect(0, scored)  // the row each scored position belongs to
        return Tensor.zeros([b], dtype: .float32, device: hidden.device).indexPut(owner, logp, accumulate: true)
    }
}

/// Attention masks for the decoder.
public enum AttentionMask {
    /// Boolean mask `[B, 1, Tq, Tk]` (true = may attend) for the last `queryLength` of `Tk` positions:
    /// causal, without padded keys — transformers' mask. A query row left with nothing to attend to
    /// (a pad before the first real token, in left padding) may attend to itself instead, so that no
    /// row is fully masked on any attention kernel; its output is never used.
    public static func causal(keyMask: Tensor, queryLength: Int) -> Tensor {
        let device = keyMask.device
        let tk = keyMask.size(1)
        let keys = Tensor.arange(0, Scalar(tk), device: device).unsqueeze(0)  // [1, Tk]
        let queries = Tensor.arange(Scalar(tk - queryLength), Scalar(tk), device: device).unsqueeze(1)  // [Tq, 1]
        let allowed = keys.le(queries).logicalAnd(keyMask.to(.bool).view(keyMask.size(0), 1, 1, tk))  // [B, 1, Tq, Tk]
        let empty = allowed.any([-1], keepDim: true).logicalNot()
        return allowed.logicalOr(keys.eq(queries).logicalAnd(empty))
    }
}

/// Per-sequence log-probabilities.
public enum SequenceLogProbs {
    /// For each row, Σ_t log softmax(logits[t-1])[labels[t]] over labels ≠ `ignoreIndex`
    /// (the sum, not the mean), computed in float32.
    public static func compute(logits: Tensor, labels: Tensor, ignoreIndex: Int = -100) -> Tensor {
        let (b, t, v) = (logits.size(0), logits.size(1), logits.size(2))
        let shiftedLogits = logits.narrow(1, start: 0, length: t - 1).to(.float32).reshape(-1, v)
        let shiftedLabels = labels.narrow(1, start: 1, length: t - 1).reshape(-1)
        let nll = Functional.crossEntropy(shiftedLogits, target: shiftedLabels, ignoreIndex: ignoreIndex, reduction: .none)
        return nll.view(b, t - 1).sum(dim: 1).neg()
    }
}
