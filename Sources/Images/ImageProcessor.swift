#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HF's CLIP, SigLIP and BiT (DINOv2's) image processors (the PIL-based ones) as one type:
/// optional pad to square, resize, centre crop, rescale, normalise — each step switched and sized
/// by `preprocessor_config.json`, whose `image_processor_type` picks the defaults (``Kind``).
///
/// CLIP: resize the shortest edge (bicubic), centre crop, rescale by 1/255, OpenAI's mean/std;
/// `padToSquare` adds LLaVA's `image_aspect_ratio == "pad"` step (expand2square with the mean
/// colour) before everything else. SigLIP: resize to a fixed height × width (no aspect ratio kept,
/// no crop), rescale, mean = std = 0.5. BiT: CLIP's steps and defaults (HF's `BitImageProcessor`
/// copies CLIP's resize); DINOv2 checkpoints configure shortest edge 256, crop 224 and ImageNet's
/// mean/std. Defaults are HF's (224 px; real configs set 336 / 384 / 256→224).
public struct ImageProcessor: Sendable, Equatable {
    /// The HF processor class a config names: it decides the defaults and which fields are read.
    public enum Kind: String, Sendable, CaseIterable {
        case clip, siglip
        /// `BitImageProcessor`, which DINOv2 checkpoints name.
        case bit

        /// The kind for an `image_processor_type` / `feature_extractor_type` / `processor_class`;
        /// "Fast" variants are the same (their output follows the PIL-based one).
        public init?(typeName: String) {
            switch typeName {
            case "CLIPImageProcessor", "CLIPImageProcessorFast", "CLIPFeatureExtractor", "CLIPProcessor": self = .clip
            case "SiglipImageProcessor", "SiglipImageProcessorFast", "SiglipProcessor": self = .siglip
            case "BitImageProcessor", "BitImageProcessorFast": self = .bit
            default: return nil
            }
        }

        /// Whether the class has the centre-crop step (and reads `crop_size`, `do_center_crop`,
        /// LLaVA's `image_aspect_ratio`).
        var crops: Bool { self != .siglip }
    }

    public var kind: Kind
    /// Whether to resize (`do_resize`).
    public var doResize = true
    /// Resize target (`size`): CLIP uses `shortest_edge`, SigLIP `height` x `width`.
    public var size: ImageSize
    /// Pillow filter of the resize (`resample`, 3 = bicubic).
    public var resample = ResampleFilter.bicubic
    /// Whether to centre-crop after resizing (`do_center_crop`; SigLIP never does).
    public var doCenterCrop: Bool
    /// Crop window (`crop_size`; nil for SigLIP).
    public var cropSize: ImageSize?
    /// Whether to multiply by `rescaleFactor` (`do_rescale`).
    public var doRescale = true
    /// Scale applied to the 0...255 values (`rescale_factor`, 1/255).
    public var rescaleFactor = 1.0 / 255.0
    /// Whether to apply `(x - mean) / std` (`do_normalize`).
    public var doNormalize = true
    /// Per-channel mean (`image_mean`).
    public var imageMean: [Double]
    /// Per-channel standard deviation (`image_std`).
    public var imageStd: [Double]
    /// Kept for completeness (`do_convert_rgb`); `RGBImage` is RGB already.
    public var doConvertRGB = true
    /// LLaVA's pad-to-square; read from `image_aspect_ratio: "pad"` when present (not an HF field).
    public var padToSquare = false

    /// HF's defaults for `kind` (CLIP ViT-B/32 at 224, SigLIP at 224; BiT's are CLIP's).
    public init(kind: Kind) {
        self.kind = kind
        switch kind {
        case .clip, .bit:
            size = .shortestEdge(224)
            doCenterCrop = true
            cropSize = .fixed(height: 224, width: 224)
            imageMean = [0.48145466, 0.4578275, 0.40821073]
            imageStd = [0.26862954, 0.26130258, 0.27577711]
        case .siglip:
            size = .fixed(height: 224, width: 224)
            doCenterCrop = false
            cropSize = nil
            imageMean = [0.5, 0.5, 0.5]
            imageStd = [0.5, 0.5, 0.5]
        }
    }

    /// The target (height, width) of the resize step for an input of this size.
    public func resizedSize(height: Int, width: Int) -> (height: Int, width: Int) {
        if let e = size.shortestEdge {
            return ImageTransforms.shortestEdgeSize(height: height, width: width, shortestEdge: e)
        }
        return (size.height ?? height, size.width ?? width)
    }

    /// Resizes, crops, rescales and normalises one image into `[3, H, W]` floats.
    public func preprocess(_ image: RGBImage) -> ProcessedImage {
        var img = image.consistent()
        if padToSquare {
            img = ImageTransforms.expandToSquare(img, background: ImageTransforms.meanColour(imageMean))
        }
        let crop = doCenterCrop ? cropSize.flatMap { c in c.height.flatMap { h in c.width.map { (h, $0) } } } : nil
        if doResize {
            let target = resizedSize(height: img.height, width: img.width)
            if let (h, w) = crop, h <= target.height, w <= target.width {
                // The crop lies inside the resized image: resize only the window it keeps.
                let top = (target.height - h) / 2, left = (target.width - w) / 2
                return finish(Resampler.resize(
                    img, width: target.width, height: target.height, filter: resample,
                    rows: top..<(top + h), columns: left..<(left + w)))
            }
            img = Resampler.resize(img, width: target.width, height: target.height, filter: resample)
        }
        if let (h, w) = crop {
            img = ImageTransforms.centerCrop(img, height: h, width: w)
        }
        return finish(img)
    }

    /// Decodes `file` (JPEG, PNG or WebP, EXIF orientation applied) and preprocesses it.
    public func preprocess(file: String) throws -> ProcessedImage {
        preprocess(try ImageDecoder.decode(file: file))
    }

    private func finish(_ img: RGBImage) -> ProcessedImage {
        ImageTransforms.toCHW(
            img, rescale: doRescale ? rescaleFactor : nil,
            mean: doNormalize ? imageMean : nil, std: doNormalize ? imageStd : nil)
    }
}

extension ImageProcessor: Decodable {
    enum CodingKeys: String, CodingKey {
        case imageProcessorType = "image_processor_type", featureExtractorType = "feature_extractor_type"
        case processorClass = "processor_class"
        case doResize = "do_resize", size, resample, doCenterCrop = "do_center_crop", cropSize = "crop_size"
        case doRescale = "do_rescale", rescaleFactor = "rescale_factor", doNormalize = "do_normalize"
        case imageMean = "image_mean", imageStd = "image_std", doConvertRGB = "do_convert_rgb"
        case imageAspectRatio = "image_aspect_ratio"
    }

    /// No type name, or one no ``Kind`` stands for (``ImageProcessors`` names the file).
    struct UnknownType: Error { let name: String? }

    /// Reads a `preprocessor_config.json`: the class from `image_processor_type` (or the older
    /// `feature_extractor_type`, or `processor_class`), then that class's fields over its defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let typeName = try c.decodeIfPresent(String.self, forKey: .imageProcessorType)
            ?? c.decodeIfPresent(String.self, forKey: .featureExtractorType)
            ?? c.decodeIfPresent(String.self, forKey: .processorClass)
        else { throw UnknownType(name: nil) }
        guard let kind = Kind(typeName: typeName) else { throw UnknownType(name: typeName) }
        self.init(kind: kind)
        doResize = try c.decodeIfPresent(Bool.self, forKey: .doResize) ?? doResize
        // HF's get_size_dict: a bare integer is a shortest edge for CLIP's resize, a square for
        // SigLIP's resize and for crops.
        let decodedSize = try c.decodeIfPresent(ImageSize.self, forKey: .size) ?? size
        size = kind.crops ? decodedSize : decodedSize.squareIfBare()
        if !kind.crops && doResize && (size.height == nil || size.width == nil) {
            throw DecodingError.dataCorruptedError(forKey: .size, in: c, debugDescription: "needs 'height' and 'width'")
        }
        resample = try decodeResample(c, .resample, default: resample)
        if kind.crops {
            doCenterCrop = try c.decodeIfPresent(Bool.self, forKey: .doCenterCrop) ?? doCenterCrop
            let crop = (try c.decodeIfPresent(ImageSize.self, forKey: .cropSize) ?? cropSize)?.squareIfBare()
            if doCenterCrop && (crop?.height == nil || crop?.width == nil) {
                throw DecodingError.dataCorruptedError(forKey: .cropSize, in: c, debugDescription: "needs 'height' and 'width'")
            }
            cropSize = crop
            if let ratio = try c.decodeIfPresent(String.self, forKey: .imageAspectRatio) { padToSquare = ratio == "pad" }
        }
        doRescale = try c.decodeIfPresent(Bool.self, forKey: .doRescale) ?? doRescale
        rescaleFactor = try c.decodeIfPresent(Double.self, forKey: .rescaleFactor) ?? rescaleFactor
        doNormalize = try c.decodeIfPresent(Bool.self, forKey: .doNormalize) ?? doNormalize
        imageMean = try c.decodeIfPresent(ChannelValues.self, forKey: .imageMean)?.values ?? imageMean
        imageStd = try c.decodeIfPresent(ChannelValues.self, forKey: .imageStd)?.values ?? imageStd
        try checkStd(imageStd, c, .imageStd)
        doConvertRGB = try c.decodeIfPresent(Bool.self, forKey: .doConvertRGB) ?? doConvertRGB
    }
}
