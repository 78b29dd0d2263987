import NN
import Torch

/// What svco needs of a family's config.json beyond its model's own construction.
public protocol VisionLanguageConfig: Sendable {
    /// The placeholder token id that stands for an image in the text.
    var imageTokenIndex: Int { get }
    /// Positions one image's features fill (each placeholder is expanded to this many).
    var imageFeatureCount: Int { get }
    /// Side of the square image the vision part reads, in pixels.
    var imageSize: Int { get }
    /// The decoder's config (pad/EOS ids, family, context length).
    var textConfig: DecoderConfig { get }
}

/// The parts of a vision-language model that training freezes separately (`--fix-vit`,
/// `--fix-multimodal-projector`) or that two models may share.
public enum ModelComponent: Sendable, CaseIterable {
    case visionTower
    case projector
    case languageModel
}

/// A model family that reads images and text and writes text: what training, evaluation and
/// generation use. A family supplies construction and the image → embedding merge; scoring
/// (``sequenceLogProbs(inputIds:attentionMask:pixelValues:labels:ignoreIndex:)``), generation,
/// saving and counting are written once on top (``VisionLanguageModel`` extensions).
///
/// A new family is a folder under `Sources/Models` with its config (conforming to
/// ``VisionLanguageConfig``) and model (conforming to this protocol), plus its entry in
/// ``ModelRegistry/families``.
public protocol VisionLanguageModel: Module {
    associatedtype Config: VisionLanguageConfig

    /// The `model_type` of the config.json files this family loads (the registry's key).
    static var modelType: String { get }

    /// Loads a model folder (config.json + safetensors weights), strictly.
    /// - Parameter other: a model of the same family and weights whose frozen vision tower this one
    ///   uses instead of loading its own copy (the frozen reference under `--fix-vit`); nil loads all.
    static func load(directory: String, dtype: DType?, device: Device,
                     sharingVisionTowerOf other: (any VisionLanguageModel)?) throws -> Self

    var config: Config { get }
    /// The decoder that reads the merged embeddings and produces the logits.
    var languageModel: DecoderLM { get }
    /// A human-readable name of the family and its parts.
    var familyName: String { get }
    /// Recompute layer activations in the backward pass (`gradient_checkpointing_enable()`).
    var gradientCheckpointing: Bool { get set }

    /// The module of a component.
    func component(_ component: ModelComponent) -> Module

    /// The vision part's output for images `[N, C, H, W]` before the projector: what a frozen tower
    /// computes once per image and shares with another model holding the same tower.
    func visionFeatures(_ pixels: Tensor) -> Tensor

    /// Projected image features `[N, imageFeatureCount, hidden]` from ``visionFeatures(_:)``.
    func projectVisionFeatures(_ features: Tensor) -> Tensor

    /// Token embeddings `[B, T, hidden]` with every image placeholder position holding the image
    /// features, in order. Throws when the placeholders do not match the images given.
    func inputEmbeddings(inputIds: Tensor, pixelValues: Tensor?) throws -> Tensor
}
