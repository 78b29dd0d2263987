/// The array steps of HF's image processors (`image_transforms.py`), on 8-bit RGB.
public enum ImageTransforms {
    /// HF's `get_resize_output_image_size(..., default_to_square=False)`: the short side becomes
    /// `shortestEdge`, the long side `int(shortestEdge * long / short)` (truncated).
    /// Returns (height, width).
    public static func shortestEdgeSize(height: Int, width: Int, shortestEdge: Int) -> (height: Int, width: Int) {
        let short = min(width, height), long = max(width, height)
        guard short > 0 else { return (shortestEdge, shortestEdge) }
        let newLong = Int(Double(shortestEdge * long) / Double(short))
        return width <= height ? (newLong, shortestEdge) : (shortestEdge, newLong)
    }

    /// HF's `center_crop`: the window starts at `(size - crop) // 2` (floor); when the image is
    /// smaller than the crop it is first centred on a black canvas (offset `ceil(diff / 2)`).
    public static func centerCrop(_ image: RGBImage, height: Int, width: Int) -> RGBImage {
        let image = image.consistent()
        let h = image.height, w = image.width
        func floorHalf(_ v: Int) -> Int { v >= 0 ? v / 2 : -((-v + 1) / 2) }
        var top = floorHalf(h - height), left = floorHalf(w - width)
        // Offsets of the original inside the (possibly) padded canvas.
        var padTop = 0, padLeft = 0
        if top < 0 || left < 0 || top + height > h || left + width > w {
            let canvasH = max(height, h), canvasW = max(width, w)
            padTop = (canvasH - h + 1) / 2
            padLeft = (canvasW - w + 1) / 2
            top += padTop
            left += padLeft
            // numpy slicing clips the window to the canvas.
            let bottom = min(canvasH, top + height), right = min(canvasW, left + width)
            top = max(0, top); left = max(0, left)
            return copyWindow(image, top: top - padTop, left: left - padLeft,
                              height: bottom - top, width: right - left)
        }
        return copyWindow(image, top: top, left: left, height: height, width: width)
    }

    /// Copies a window whose origin is given in source coordinates; parts outside are black.
    static func copyWindow(_ image: RGBImage, top: Int, left: Int, height: Int, width: Int) -> RGBImage {
        let image = image.consistent()
        var out = [UInt8](repeating: 0, count: max(0, height) * max(0, width) * 3)
        guard height > 0, width > 0 else { return RGBImage(width: max(0, width), height: max(0, height), pixels: out) }
        let x0 = max(0, left), x1 = min(image.width, left + width)
        image.pixels.withUnsafeBufferPointer { srcBuf in
            out.withUnsafeMutableBufferPointer { dstBuf in
                guard let src = srcBuf.baseAddress, let dst = dstBuf.baseAddress, x1 > x0 else { return }
                for y in 0..<height {
                    let sy = top + y
                    guard sy >= 0, sy < image.height else { continue }
                    (dst + (y * width + (x0 - left)) * 3).update(
                        from: src + (sy * image.width + x0) * 3, count: (x1 - x0) * 3)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// LLaVA's `expand2square`: pastes the image centred (offset `(long - short) // 2`) on a
    /// square canvas of `background`, which LLaVA takes as `int(mean * 255)` per channel.
    public static func expandToSquare(_ image: RGBImage, background: (UInt8, UInt8, UInt8)) -> RGBImage {
        let image = image.consistent()
        let w = image.width, h = image.height
        if w == h { return image }
        let side = max(w, h)
        var canvas = RGBImage(width: side, height: side, fill: background)
        let offX = w > h ? 0 : (h - w) / 2, offY = w > h ? (w - h) / 2 : 0
        image.pixels.withUnsafeBufferPointer { srcBuf in
            canvas.pixels.withUnsafeMutableBufferPointer { dstBuf in
                guard let src = srcBuf.baseAddress, let dst = dstBuf.baseAddress else { return }
                for y in 0..<h {
                    (dst + ((y + offY) * side + offX) * 3).update(from: src + y * w * 3, count: w * 3)
                }
            }
        }
        return canvas
    }

    /// LLaVA's pad colour: `tuple(int(x * 255) for x in image_mean)`.
    public static func meanColour(_ mean: [Double]) -> (UInt8, UInt8, UInt8) {
        func c(_ i: Int) -> UInt8 {
            let v = i < mean.count ? mean[i] : (mean.first ?? 0)
            return UInt8(clamping: Int((v * 255).rounded(.towardZero)))
        }
        return (c(0), c(1), c(2))
    }

    /// HWC bytes to CHW floats with HF's arithmetic: `rescale` multiplies in float64 and stores
    /// float32; `normalize` computes `(x - mean) / std` in float32. Since the input is 8-bit,
    /// each channel is a 256-entry lookup table holding exactly those values.
    public static func toCHW(_ image: RGBImage, rescale: Double?, mean: [Double]?, std: [Double]?) -> ProcessedImage {
        let image = image.consistent()
        var tables = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            let m = mean.map { Float($0.count == 1 ? $0[0] : $0[c]) }
            let s = std.map { Float($0.count == 1 ? $0[0] : $0[c]) }
            for v in 0..<256 {
                var x = rescale.map { Float(Double(v) * $0) } ?? Float(v)
                if let m, let s { x = (x - m) / s }
                tables[c * 256 + v] = x
            }
        }
        let plane = image.width * image.height
        let values = [Float].uninitialized(count: 3 * plane) { dst in
            image.pixels.withUnsafeBufferPointer { srcBuf in
                tables.withUnsafeBufferPointer { tBuf in
                    guard let src = srcBuf.baseAddress, let t = tBuf.baseAddress else { return }
                    let r = dst, g = dst + plane, b = dst + 2 * plane
                    let tg = t + 256, tb = t + 512
                    for i in 0..<plane {
                        r[i] = t[Int(src[3 * i])]
                        g[i] = tg[Int(src[3 * i + 1])]
                        b[i] = tb[Int(src[3 * i + 2])]
                    }
                }
            }
        }
        return ProcessedImage(values: values, shape: [3, image.height, image.width])
    }
}

extension ImageTransforms {
    /// A random window keeping at most `maxAreaFraction` of the image (at least one pixel per side),
    /// the same shape as the image — mDPO's corrupted image ("crop 0–20%"), before preprocessing.
    public static func randomCrop<G: RandomNumberGenerator>(_ image: RGBImage, maxAreaFraction: Double,
                                                            using rng: inout G) -> RGBImage {
        let fraction = Double.random(in: 0...max(0, min(1, maxAreaFraction)), using: &rng)
        let side = fraction.squareRoot()
        let w = max(1, min(image.width, Int((Double(image.width) * side).rounded())))
        let h = max(1, min(image.height, Int((Double(image.height) * side).rounded())))
        let left = Int.random(in: 0...(image.width - w), using: &rng)
        let top = Int.random(in: 0...(image.height - h), using: &rng)
        return copyWindow(image, top: top, left: left, height: h, width: w)
    }
}
