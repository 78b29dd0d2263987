import Images
import Torch

/// Images into model input: the one place a decoded, preprocessed image becomes a tensor.
///
/// A target of its own because `Images` stays free of libtorch (its processors emit plain floats)
/// while training, evaluation and the CLI all need the `[N, 3, H, W]` tensor.
extension Tensor {
    /// One preprocessed image as `pixel_values` of batch size 1: `[1, 3, H, W]` float32.
    public convenience init(pixels image: ProcessedImage) {
        self.init(image.values, shape: [1] + image.shape)
    }

    /// Every file decoded and run through `processor`, stacked in order: `[N, 3, H, W]` float32;
    /// nil when `files` is empty. Throws the decoder's error naming the file, or
    /// ``ImageError/inconsistentSizes(file:shape:expected:)`` when a processor that does not
    /// resize leaves images of different sizes.
    public static func pixelValues(files: [String], processor: ImageProcessor) throws -> Tensor? {
        var images: [Tensor] = []
        var first: [Int]?
        for file in files {
            let image = try processor.preprocess(file: file)
            if let first, image.shape != first {
                throw ImageError.inconsistentSizes(file: file, shape: image.shape, expected: first)
            }
            first = first ?? image.shape
            images.append(Tensor(pixels: image))
        }
        return images.isEmpty ? nil : Tensor.cat(images, dim: 0)
    }
}
