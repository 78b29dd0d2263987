#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Anything that turns an RGB image into model input.
public protocol ImageProcessor: Sendable {
    /// Resizes, crops, rescales and normalises one image into `[3, H, W]` floats.
    func preprocess(_ image: RGBImage) -> ProcessedImage
}

/// HF's `CLIPImageProcessor` (the PIL-based one): resize the shortest edge (bicubic), centre
/// crop, rescale by 1/255, normalise with OpenAI's CLIP mean/std. Defaults are HF's.
/// `padToSquare` adds LLaVA's `image_aspect_ratio == "pad"` step (expand2square with the mean
/// colour) before everything else.
public struct CLIPImageProcessor: ImageProcessor, Codable, Sendable {
    /// Whether to resize (`do_resize`).
    public var doResize = true
    /// Resize target (`size`): CLIP uses `shortest_edge`, SigLIP `height` x `width`.
    public var size = ImageSize.shortestEdge(224)
    /// Pillow filter of the resize (`resample`, 3 = bicubic).
    public var resample = ResampleFilter.bicubic
    /// Whether to centre-crop after resizing (`do_center_crop`).
    public var doCenterCrop = true
    /// Crop window (`crop_size`).
    public var cropSize = ImageSize.fixed(height: 224, width: 224)
    /// Whether to multiply by `rescaleFactor` (`do_rescale`).
    public var doRescale = true
    /// Scale applied to the 0...255 values (`rescale_factor`, 1/255).
    public var rescaleFactor = 1.0 / 255.0
    /// Whether to apply `(x - mean) / std` (`do_normalize`).
    public var doNormalize = true
    /// Per-channel mean (`image_mean`).
    public var imageMean = [0.48145466, 0.4578275, 0.40821073]
    /// Per-channel standard deviation (`image_std`).
    public var imageStd = [0.26862954, 0.26130258, 0.27577711]
    /// Kept for round-tripping (`do_convert_rgb`); `RGBImage` is RGB already.
    public var doConvertRGB = true
    /// LLaVA's pad-to-square; read from `image_aspect_ratio: "pad"` when present (not an HF field).
    public var padToSquare = false

    enum CodingKeys: String, CodingKey {
        case doResize = "do_resize", size, resample, doCenterCrop = "do_center_crop", cropSize = "crop_size"
        case doRescale = "do_rescale", rescaleFactor = "rescale_factor", doNormalize = "do_normalize"
        case imageMean = "image_mean", imageStd = "image_std", doConvertRGB = "do_convert_rgb"
        case imageAspectRatio = "image_aspect_ratio"
    }

    /// HF's defaults (CLIP ViT-B/32 at 224).
    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        doResize = try c.decodeIfPresent(Bool.self, forKey: .doResize) ?? doResize
        size = try c.decodeIfPresent(ImageSize.self, forKey: .size) ?? size
        resample = try decodeResample(c, .resample, default: .bicubic)
        doCenterCrop = try c.decodeIfPresent(Bool.self, forKey: .doCenterCrop) ?? doCenterCrop
        cropSize = (try c.decodeIfPresent(ImageSize.self, forKey: .cropSize) ?? cropSize).squareIfBare()
        if doCenterCrop && (cropSize.height == nil || cropSize.width == nil) {
            throw DecodingError.dataCorruptedError(forKey: .cropSize, in: c, debugDescription: "needs 'height' and 'width'")
        }
        doRescale = try c.decodeIfPresent(Bool.self, forKey: .doRescale) ?? doRescale
        rescaleFactor = try c.decodeIfPresent(Double.self, forKey: .rescaleFactor) ?? rescaleFactor
        doNormalize = try c.decodeIfPresent(Bool.self, forKey: .doNormalize) ?? doNormalize
        imageMean = try c.decodeIfPresent(ChannelValues.self, forKey: .imageMean)?.values ?? imageMean
        imageStd = try c.decodeIfPresent(ChannelValues.self, forKey: .imageStd)?.values ?? imageStd
        try checkStd(imageStd, c, .imageStd)
        doConvertRGB = try c.decodeIfPresent(Bool.self, forKey: .doConvertRGB) ?? doConvertRGB
        if let ratio = try c.decodeIfPresent(String.self, forKey: .imageAspectRatio) {
            padToSquare = ratio == "pad"
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(doResize, forKey: .doResize)
        try c.encode(size, forKey: .size)
        try c.encode(resample.rawValue, forKey: .resample)
        try c.encode(doCenterCrop, forKey: .doCenterCrop)
        try c.encode(cropSize, forKey: .cropSize)
        try c.encode(doRescale, forKey: .doRescale)
        try c.encode(rescaleFactor, forKey: .rescaleFactor)
        try c.encode(doNormalize, forKey: .doNormalize)
        try c.encode(imageMean, forKey: .imageMean)
        try c.encode(imageStd, forKey: .imageStd)
        try c.encode(doConvertRGB, forKey: .doConvertRGB)
        if padToSquare { try c.encode("pad", forKey: .imageAspectRatio) }
    }

    /// The target (height, width) of the resize step for an input of this size.
    public func resizedSize(height: Int, width: Int) -> (height: Int, width: Int) {
        if let e = size.shortestEdge {
            return ImageTransforms.shortestEdgeSize(height: height, width: width, shortestEdge: e)
        }
        return (size.height ?? height, size.width ?? width)
    }

    public func preprocess(_ image: RGBImage) -> ProcessedImage {
        var img = image.consistent()
        if padToSquare {
            img = ImageTransforms.expandToSquare(img, background: ImageTransforms.meanColour(imageMean))
        }
        if doResize {
            let target = resizedSize(height: img.height, width: img.width)
            if doCenterCrop, let h = cropSize.height, let w = cropSize.width, h <= target.height, w <= target.width {
                // The crop lies inside the resized image: resize only the window it keeps.
                let top = (target.height - h) / 2, left = (target.width - w) / 2
                return finish(Resampler.resize(
                    img, width: target.width, height: target.height, filter: resample,
                    rows: top..<(top + h), columns: left..<(left + w)))
            }
            img = Resampler.resize(img, width: target.width, height: target.height, filter: resample)
        }
        if doCenterCrop, let h = cropSize.height, let w = cropSize.width {
            img = ImageTransforms.centerCrop(img, height: h, width: w)
        }
        return finish(img)
    }

    private func finish(_ img: RGBImage) -> ProcessedImage {
        return ImageTransforms.toCHW(
            img, rescale: doRescale ? rescaleFactor : nil,
            mean: doNormalize ? imageMean : nil, std: doNormalize ? imageStd : nil)
    }
}
