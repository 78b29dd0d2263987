import Testing
@testable import Datasets
@testable import Images

@Suite struct RandomCropTests {
    @Test func keepsAtMostTheAreaFractionAndIsSeeded() {
        var pixels: [UInt8] = []
        for i in 0..<(40 * 30) { pixels += [UInt8(i % 251), UInt8(i / 251), 7] }
        let image = RGBImage(width: 40, height: 30, pixels: pixels)
        var a = Datasets.SplitMix64(seed: 3), b = Datasets.SplitMix64(seed: 3)
        for _ in 0..<50 {
            let crop = ImageTransforms.randomCrop(image, maxAreaFraction: 0.2, using: &a)
            #expect(crop.width >= 1 && crop.height >= 1)
            #expect(Double(crop.width * crop.height) <= 0.2 * 1200 + Double(crop.width + crop.height))  // rounding slack
            #expect(crop.pixels.count == crop.width * crop.height * 3)
            #expect(crop == ImageTransforms.randomCrop(image, maxAreaFraction: 0.2, using: &b))
            // The crop is a window of the original: its first pixel appears in the source.
            let first = Array(crop.pixels[0..<3])
            #expect(stride(from: 0, to: pixels.count, by: 3).contains { Array(pixels[$0..<($0 + 3)]) == first })
        }
    }
}
