import NN
import Torch

/// LLaVA: a vision tower, a two-layer projector and a decoder. Each image placeholder token in the
/// text is replaced by the image's projected features (`imageFeatureCount` positions), exactly as
/// transformers' LlavaForConditionalGeneration does with its expanded image tokens.
public final class LlavaModel: Module, VisionLanguageModel {
    public static let modelType = "llava"

    public let config: LlavaConfig
    public let visionTower: VisionTower
    public let projector: Projector
    public let languageModel: DecoderLM

    /// The parts' keys in the published checkpoint layout (``CheckpointLayout`` maps the other).
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

    public static func load(directory: String, dtype: DType?, device: Device,
                            sharingVisionTowerOf other: (any VisionLanguageModel)?) throws -> LlavaModel {
        var tower: VisionTower?
        if let other {
            guard let shared = other.component(.visionTower) as? VisionTower else {
                throw ConfigError(file: directory, field: "model_type",
                                  reason: "cannot share the vision tower of a \(other.familyName) model")
            }
            tower = shared
        }
        return try load(directory: directory, dtype: dtype, device: device, sharedVisionTower: tower)
    }

    /// Human-readable family of this model.
    public var familyName: String {
        switch (config.visionConfig.family, config.textConfig.family) {
        case (.clip, .llama): "llava-1.5 (CLIP + Llama)"
        case (.siglip, .qwen2): "llava-interleave (SigLIP + Qwen2)"
        case (let v, let t): "llava (\(v.rawValue) + \(t.rawValue))"
        }
    }

    public func component(_ component: ModelComponent) -> Module {
        switch component {
        case .visionTower: visionTower
        case .projector: projector
        case .languageModel: languageModel
        }
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

    /// The tower's selected hidden states `[N, imageFeatureCount, visionWidth]` (CLS dropped under
    /// the "default" strategy), before the projector.
    public func visionFeatures(_ pixels: Tensor) -> Tensor {
        visionTower.features(pixels.to(dtype, device: device), layers: config.visionFeatureLayer.values,
                             dropFirst: config.visionFeatureSelectStrategy == .default)
    }

    public func projectVisionFeatures(_ features: Tensor) -> Tensor { projector(features) }

    /// Projected features `[N, imageFeatureCount, textHidden]` for images `[N, C, H, W]`.
    public func imageFeatures(_ pixels: Tensor) -> Tensor { projectVisionFeatures(visionFeatures(pixels)) }

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
