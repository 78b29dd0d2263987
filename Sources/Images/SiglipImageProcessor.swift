#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HF's `SiglipImageProcessor`: resize to a fixed square (bicubic, no aspect ratio kept, no crop),
/// rescale by 1/255, normalise with mean = std = 0.5. Defaults are HF's (224 x 224);
/// SigLIP-so400m-384 configs set 384.
public struct SiglipImageProcessor: ImageProcessor, Codable, Sendable {
    /// Whether to resize (`do_resize`).
    public var doResize = true
    /// Resize target (`size`): CLIP uses `shortest_edge`, SigLIP `height` x `width`.
    public var size = ImageSize.fixed(height: 224, width: 224)
    /// Pillow filter of the resize (`resample`, 3 = bicubic).
    public var resample = ResampleFilter.bicubic
    /// Whether to multiply by `rescaleFactor` (`do_rescale`).
    public var doRescale = true
    /// Scale applied to the 0...255 values (`rescale_factor`, 1/255).
    public var rescaleFactor = 1.0 / 255.0
    /// Whether to apply `(x - mean) / std` (`do_normalize`).
    public var doNormalize = true
    /// Per-channel mean (`image_mean`).
    public var imageMean = [0.5, 0.5, 0.5]
    /// Per-channel standard deviation (`image_std`).
    public var imageStd = [0.5, 0.5, 0.5]
    /// Kept for round-tripping (`do_convert_rgb`); `RGBImage` is RGB already.
    public var doConvertRGB = true

    enum CodingKeys: String, CodingKey {
        case doResize = "do_resize", size, resample
        case doRescale = "do_rescale", rescaleFactor = "rescale_factor", doNormalize = "do_normalize"
        case imageMean = "image_mean", imageStd = "image_std", doConvertRGB = "do_convert_rgb"
    }

    /// HF's defaults.
    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        doResize = try c.decodeIfPresent(Bool.self, forKey: .doResize) ?? doResize
        size = (try c.decodeIfPresent(ImageSize.self, forKey: .size) ?? size).squareIfBare()
        if doResize && (size.height == nil || size.width == nil) {
            throw DecodingError.dataCorruptedError(forKey: .size, in: c, debugDescription: "needs 'height' and 'width'")
        }
        resample = try decodeResample(c, .resample, default: .bicubic)
        doRescale = try c.decodeIfPresent(Bool.self, forKey: .doRescale) ?? doRescale
        rescaleFactor = try c.decodeIfPresent(Double.self, forKey: .rescaleFactor) ?? rescaleFactor
        doNormalize = try c.decodeIfPresent(Bool.self, forKey: .doNormalize) ?? doNormalize
        imageMean = try c.decodeIfPresent(ChannelValues.self, forKey: .imageMean)?.values ?? imageMean
        imageStd = try c.decodeIfPresent(ChannelValues.self, forKey: .imageStd)?.values ?? imageStd
        try checkStd(imageStd, c, .imageStd)
        doConvertRGB = try c.decodeIfPresent(Bool.self, forKey: .doConvertRGB) ?? doConvertRGB
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(doResize, forKey: .doResize)
        try c.encode(size, forKey: .size)
        try c.encode(resample.rawValue, forKey: .resample)
        try c.encode(doRescale, forKey: .doRescale)
        try c.encode(rescaleFactor, forKey: .rescaleFactor)
        try c.encode(doNormalize, forKey: .doNormalize)
        try c.encode(imageMean, forKey: .imageMean)
        try c.encode(imageStd, forKey: .imageStd)
        try c.encode(doConvertRGB, forKey: .doConvertRGB)
    }

    public func preprocess(_ image: RGBImage) -> ProcessedImage {
        var img = image.consistent()
        if doResize, let h = size.height, let w = size.width {
            img = Resampler.resize(img, width: w, height: h, filter: resample)
        }
        return ImageTransforms.toCHW(
            img, rescale: doRescale ? rescaleFactor : nil,
            mean: doNormalize ? imageMean : nil, std: doNormalize ? imageStd : nil)
    }
}
