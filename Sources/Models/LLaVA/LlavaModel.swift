#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NN
import Torch

/// Problems with a model's inputs that come from data (prompts, images), not from svco.
public enum ModelInputError: Error, CustomStringConvertible, LocalizedError, Sendable {
    case imageCountMismatch(row: Int?, imageTokens: Int, images: Int)
    case sequenceTooLong(length: Int, limit: Int)

    public var description: String {
        switch self {
        case .imageCountMismatch(let row, let tokens, let images):
            "\(row.map { "row \($0): " } ?? "")the text has \(tokens) image placeholder token(s) but \(images) image(s) were given"
        case .sequenceTooLong(let length, let limit):
            "sequence of \(length) tokens exceeds the model's limit of \(limit)"
        }
    }
    public var errorDescription: String? { description }
}

/// LLaVA: a vision tower, a two-layer projector and a decoder. Each image placeholder token in the
/// text is replaced by the image's projected features (`imageFeatureCount` positions), exactly as
/// transformers' LlavaForConditionalGeneration does with its expanded image tokens.
public final class LlavaModel: Module {
    public let config: LlavaConfig
    public let visionTower: VisionTower
    public let projector: Projector
    public let languageModel: DecoderLM

    public static let visionPrefix = "vision_tower"
    public static let projectorPrefix = "multi_modal_projector"
    public static let languagePrefix = "language_model"

    /// Builds the model from `tensors` named in either checkpoint layout. Strict: a missing,
    /// unexpected or mis-shaped tensor is an error naming the key and `source`.
    public convenience init(config: LlavaConfig, tensors: [String: Tensor], source: String, dtype: DType? = nil,
                            device: Device = .cpu, sharedVisionTower: VisionTower? = nil) throws {
        let layout = try CheckpointLayout.detect(Array(tensors.keys), source: source)
        try self.init(config: config, loader: WeightLoader(tensors: layout.sanitize(tensors), source: source, dtype: dtype, device: device),
                      sharedVisionTower: sharedVisionTower)
    }

    /// Builds the model from a loader of published-layout names (or a random-weight loader).
    /// - Parameter sharedVisionTower: a frozen tower of another model built from the same weights
    ///   (the policy's, for the frozen reference model under `--fix-vit`): used instead of a copy,
    ///   and this loader's vision weights are skipped.
    public init(config: LlavaConfig, loader: WeightLoader, sharedVisionTower: VisionTower? = nil) throws {
        self.config = config
        let scope = ModuleScope(loader: loader)
        if let sharedVisionTower {
            guard sharedVisionTower.config == config.visionConfig else {
                throw ConfigError(file: loader.source, field: "vision_config",
                                  reason: "differs from that of the model whose vision tower it was asked to share")
            }
            if loader.isRandom {
                // Draw (and drop) the tower's weights anyway so the language model draws the same
                // numbers as in an unshared build from the same seed.
                _ = try VisionTower(config: config.visionConfig, ModuleScope(loader: loader, key: Self.visionPrefix))
            }
            scope.share(sharedVisionTower, as: Self.visionPrefix)
            visionTower = sharedVisionTower
        } else {
            visionTower = try VisionTower(config: config.visionConfig, scope.child(Self.visionPrefix))
        }
        let visionWidth = config.visionConfig.hiddenSize * config.visionFeatureLayer.values.count
        projector = try Projector(scope.child(Self.projectorPrefix), inFeatures: visionWidth, outFeatures: config.textConfig.hiddenSize,
                                  bias: config.multimodalProjectorBias, activation: config.projectorHiddenAct)
        languageModel = try DecoderLM(config: config.textConfig, scope.child(Self.languagePrefix))
        super.init(scope)
        try loader.finish()
    }

    /// Loads `config.json` and the safetensors weights of a HF model folder.
    /// - Parameter sharedVisionTower: see ``init(config:loader:sharedVisionTower:)``.
    public static func load(directory: String, dtype: DType? = nil, device: Device = .cpu,
                            sharedVisionTower: VisionTower? = nil) throws -> LlavaModel {
        let configPath = SafetensorsCheckpoint.join(directory, "config.json")
        let config = try ConfigFile.decode(LlavaConfig.self, path: configPath)
        let tensors = try SafetensorsCheckpoint.load(directory: directory)
        return try LlavaModel(config: config, tensors: tensors, source: directory, dtype: dtype, device: device,
                              sharedVisionTower: sharedVisionTower)
    }

    /// Gradient checkpointing of the decoder layers and the vision encoder layers, as
    /// `model.gradient_checkpointing_enable()` sets it on a LlavaForConditionalGeneration.
    public var gradientCheckpointing: Bool {
        get { languageModel.gradientCheckpointing }
        set {
            languageModel.gradientCheckpointing = newValue
            visionTower.gradientCheckpointing = newValue
        }
    }

    public var dtype: DType { languageModel.embedTokens.weight.value.dtype }
    public var device: Device { languageModel.embedTokens.weight.value.device }

    /// Projected features `[N, imageFeatureCount, textHidden]` for images `[N, C, H, W]`.
    public func imageFeatures(_ pixels: Tensor) -> Tensor {
        let selected = visionTower.features(pixels, layers: config.visionFeatureLayer.values,
                                            dropFirst: config.visionFeatureSelectStrategy == .default)
        return projector(selected)
    }

    /// Token embeddings with every image-token position holding the image features, in order
    /// (row-major over the batch, as transformers' masked_scatter). `inputIds` `[B, T]` carry
    /// `imageFeatureCount` image tokens per image; rows without images never touch the vision tower.
    public func inputEmbeddings(inputIds: Tensor, pixelValues: Tensor?) throws -> Tensor {
        let isImage = inputIds.eq(Scalar(config.imageTokenIndex))
        let imageTokens = isImage.sum().item().intValue
        let images = pixelValues?.size(0) ?? 0
        guard imageTokens == images * config.imageFeatureCount else {
            throw ModelInputError.imageCountMismatch(row: nil, imageTokens: imageTokens / Swift.max(1, config.imageFeatureCount), images: images)
        }
        // Image-token ids are looked up as 0 (any valid row) and then overwritten.
        let embeds = languageModel.embedTokens(inputIds.maskedFill(isImage, 0))
        guard let pixelValues, images > 0 else { return embeds }
        let features = imageFeatures(pixelValues.to(dtype, device: device))
        return embeds.indexPut(isImage, features.reshape(-1, features.size(-1)).to(embeds.dtype))
    }

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

/// LLaVA's projector: linear → activation → linear (`multi_modal_projector.linear_1/2`).
public final class Projector: Module {
    let linear1: Linear
    let linear2: Linear
    let activation: Activation

    init(_ scope: ModuleScope, inFeatures: Int, outFeatures: Int, bias: Bool, activation: Activation) throws {
        linear1 = try Linear(scope.child("linear_1"), inFeatures: inFeatures, outFeatures: outFeatures, bias: bias)
        linear2 = try Linear(scope.child("linear_2"), inFeatures: outFeatures, outFeatures: outFeatures, bias: bias)
        self.activation = activation
        super.init(scope)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { linear2(activation(linear1(x))) }
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
