import Testing
@testable import Images

/// A grey row as an RGB image.
func greyRow(_ values: [UInt8]) -> RGBImage {
    RGBImage(width: values.count, height: 1, pixels: values.flatMap { [$0, $0, $0] })
}

@Suite struct ResamplerTests {
    /// Bilinear 4 -> 2: support doubles to 2; the windows are {0,1,2} and {1,2,3} with
    /// weights (3,3,1)/7 and (1,3,3)/7, so 500/7 -> 71 and 1465/7 -> 209 (Pillow: [71, 209]).
    @Test func bilinearDownscaleByHand() {
        let out = Resampler.resize(greyRow([0, 100, 200, 255]), width: 2, height: 1, filter: .bilinear)
        #expect(out.pixels == [71, 71, 71, 209, 209, 209])
    }

    /// Bicubic 2 -> 4 (a = -0.5): the outer samples overshoot and clip; the inner ones are
    /// 255 * 0.2265625 / 1.09375 = 52.8 -> 53 and its mirror 202 (Pillow: [0, 53, 202, 255]).
    @Test func bicubicUpscaleByHand() {
        let out = Resampler.resize(greyRow([0, 255]), width: 4, height: 1, filter: .bicubic)
        #expect(out.pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) == [0, 53, 202, 255])
    }

    /// A window of the resize equals cropping the full resize, for every filter and for
    /// axes that do and do not change size.
    @Test func windowEqualsCropOfFullResize() {
        var rng = SplitMix64(state: 7)
        let w = 37, h = 23
        let image = RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        for filter in [ResampleFilter.lanczos, .bilinear, .bicubic, .box, .hamming] {
            for (ow, oh) in [(19, 41), (37, 11), (64, 23), (5, 5)] {
                let full = Resampler.resize(image, width: ow, height: oh, filter: filter)
                let rows = (oh / 4)..<(oh - oh / 5), cols = (ow / 3)..<(ow - ow / 6)
                let window = Resampler.resize(image, width: ow, height: oh, filter: filter, rows: rows, columns: cols)
                let crop = ImageTransforms.copyWindow(full, top: rows.lowerBound, left: cols.lowerBound,
                                                      height: rows.count, width: cols.count)
                #expect(window == crop, "\(filter) \(ow)x\(oh)")
            }
        }
    }

    /// HF's center_crop: floor offsets inside, centred black padding when the crop is larger.
    @Test func centerCropPadsLikeHF() {
        let image = RGBImage(width: 3, height: 2, pixels: Array(1...18))
        let inner = ImageTransforms.centerCrop(image, height: 1, width: 2)
        // top = (2 - 1) // 2 = 0, left = (3 - 2) // 2 = 0
        #expect(inner.pixels == [1, 2, 3, 4, 5, 6])
        let padded = ImageTransforms.centerCrop(image, height: 4, width: 4)
        // canvas 4x4, image at top 1 (ceil(2/2)), left 1 (ceil(1/2)); window top 0, left 0.
        var expected = [UInt8](repeating: 0, count: 48)
        for y in 0..<2 { for x in 0..<3 { for c in 0..<3 { expected[((y + 1) * 4 + x + 1) * 3 + c] = image.pixels[(y * 3 + x) * 3 + c] } } }
        #expect(padded.pixels == expected)
    }

    /// LLaVA's expand2square: offset (long - short) // 2, mean colour around.
    @Test func expandToSquare() {
        let image = RGBImage(width: 1, height: 4, fill: (9, 9, 9))
        let square = ImageTransforms.expandToSquare(image, background: (122, 116, 104))
        #expect(square.width == 4 && square.height == 4)
        // column 1 ((4 - 1) // 2) holds the image, the rest is the background.
        for y in 0..<4 {
            for x in 0..<4 {
                let p = Array(square.pixels[((y * 4 + x) * 3)..<((y * 4 + x) * 3 + 3)])
                #expect(p == (x == 1 ? [9, 9, 9] : [122, 116, 104]))
            }
        }
        #expect(ImageTransforms.shortestEdgeSize(height: 655, width: 450, shortestEdge: 336) == (489, 336))
    }
}
