#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pillow's resampling filters, numbered as `PIL.Image.Resampling` (and HF's `resample` field).
public enum ResampleFilter: Int, Sendable, Codable {
    /// Windowed sinc, support 3.
    case lanczos = 1
    /// Triangle, support 1.
    case bilinear = 2
    /// Keys' cubic with a = -0.5, support 2 (CLIP and SigLIP processors).
    case bicubic = 3
    /// Box, support 0.5.
    case box = 4
    /// Hamming-windowed sinc, support 1.
    case hamming = 5

    /// Half-width of the kernel at scale 1.
    var support: Double {
        switch self {
        case .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// Kernel weight at distance `x` (unnormalised), Pillow's definitions.
    func weight(_ x: Double) -> Double {
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let a = abs(x)
            return a < 1 ? 1 - a : 0
        case .hamming:
            let a = abs(x)
            if a == 0 { return 1 }
            if a >= 1 { return 0 }
            let t = a * Double.pi
            return sin(t) / t * (0.54 + 0.46 * cos(t))
        case .bicubic:
            // Keys' cubic with a = -0.5, as Pillow uses.
            let a = -0.5, t = abs(x)
            if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
            if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
            return 0
        case .lanczos:
            if x <= -3 || x >= 3 { return 0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let t = x * Double.pi
        return sin(t) / t
    }
}

/// Separable convolution resize equal to Pillow's `Image.resize` for 8-bit images: per output
/// pixel a window of input pixels, weights from the filter stretched by the downscale factor
/// (antialiasing), normalised, then turned into 22-bit fixed point. The horizontal pass runs
/// first and is rounded to 8 bits before the vertical pass, exactly as Pillow's Resample.c.
public enum Resampler {
    /// Fixed-point precision Pillow uses for 8-bit images (32 - 8 - 2 bits).
    static let precisionBits = 22

    /// Per-output-pixel windows and fixed-point weights along one axis.
    struct Coefficients {
        var start: [Int32]    // first input index per output pixel
        var count: [Int32]    // window length per output pixel
        var weights: [Int32]  // `kernelSize` weights per output pixel, fixed point
        var kernelSize: Int

        /// The coefficients of the output pixels in `range` only.
        func slice(_ range: Range<Int>) -> Coefficients {
            Coefficients(
                start: Array(start[range]), count: Array(count[range]),
                weights: Array(weights[(range.lowerBound * kernelSize)..<(range.upperBound * kernelSize)]),
                kernelSize: kernelSize)
        }
    }

    static func coefficients(inputSize: Int, outputSize: Int, filter: ResampleFilter) -> Coefficients {
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let kernelSize = Int(support.rounded(.up)) * 2 + 1
        var start = [Int32](repeating: 0, count: outputSize)
        var count = [Int32](repeating: 0, count: outputSize)
        var weights = [Int32](repeating: 0, count: outputSize * kernelSize)
        var k = [Double](repeating: 0, count: kernelSize)
        let inv = 1 / filterScale
        let one = Double(1 << precisionBits)
        for xx in 0..<outputSize {
            let center = (Double(xx) + 0.5) * scale
            // C's (int) cast truncates toward zero; clamping to the image follows.
            var xmin = Int((center - support + 0.5).rounded(.towardZero))
            if xmin < 0 { xmin = 0 }
            var xmax = Int((center + support + 0.5).rounded(.towardZero))
            if xmax > inputSize { xmax = inputSize }
            let n = max(0, min(xmax - xmin, kernelSize))
            var total = 0.0
            for x in 0..<n {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inv)
                k[x] = w
                total += w
            }
            for x in 0..<kernelSize {
                var w = x < n ? k[x] : 0
                if x < n && total != 0 { w /= total }
                // Round half away from zero, as Pillow's normalize_coeffs_8bpc.
                let f = w < 0 ? (w * one - 0.5).rounded(.towardZero) : (w * one + 0.5).rounded(.towardZero)
                weights[xx * kernelSize + x] = Int32(f)
            }
            start[xx] = Int32(xmin)
            count[xx] = Int32(n)
        }
        return Coefficients(start: start, count: count, weights: weights, kernelSize: kernelSize)
    }

    /// Resizes to `width` x `height` (Pillow skips the pass for an axis whose size is unchanged).
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter) -> RGBImage {
        resize(image, width: width, height: height, filter: filter, rows: 0..<max(height, 0), columns: 0..<max(width, 0))
    }

    /// The window `rows` x `columns` of the `width` x `height` resize, computed without the rest.
    /// Every output pixel depends only on its own coefficients, so this equals resizing fully and
    /// cropping (HF's resize + center_crop) while skipping the work the crop throws away.
    /// The window must lie inside the output.
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter,
                              rows: Range<Int>, columns: Range<Int>) -> RGBImage {
        let image = image.consistent()
        guard width > 0, height > 0, image.width > 0, image.height > 0,
              rows.lowerBound >= 0, rows.upperBound <= height, columns.lowerBound >= 0, columns.upperBound <= width,
              !rows.isEmpty, !columns.isEmpty else {
            let w = max(columns.count, 0), h = max(rows.count, 0)
            return RGBImage(width: w, height: h, pixels: [UInt8](repeating: 0, count: w * h * 3))
        }
        let resizeRows = height != image.height, resizeColumns = width != image.width
        let vertical = resizeRows
            ? coefficients(inputSize: image.height, outputSize: height, filter: filter).slice(rows) : nil
        // Input rows the vertical pass reads (or the rows kept when there is no vertical pass).
        let first: Int, last: Int
        if let v = vertical {
            first = Int(v.start[0])
            last = Int(v.start[rows.count - 1] + v.count[rows.count - 1])
        } else {
            first = rows.lowerBound
            last = rows.upperBound
        }
        var current: RGBImage
        if resizeColumns {
            let horizontal = coefficients(inputSize: image.width, outputSize: width, filter: filter).slice(columns)
            current = horizontalPass(image, rows: first..<last, coefficients: horizontal, outputWidth: columns.count)
        } else if columns.count == image.width && first == 0 && last == image.height {
            current = image
        } else {
            current = ImageTransforms.copyWindow(image, top: first, left: columns.lowerBound,
                                                 height: last - first, width: columns.count)
        }
        guard var v = vertical else { return current }
        for i in 0..<rows.count { v.start[i] -= Int32(first) }
        return verticalPass(current, coefficients: v, outputHeight: rows.count)
    }

    private static func horizontalPass(_ image: RGBImage, rows: Range<Int>, coefficients c: Coefficients, outputWidth: Int) -> RGBImage {
        let inStride = image.width * 3
        let outStride = outputWidth * 3
        let half = Int32(1 << (precisionBits - 1))
        let ks = c.kernelSize
        let out = [UInt8].uninitialized(count: outStride * rows.count) { dst in
            image.pixels.withUnsafeBufferPointer { srcBuf in
                c.weights.withUnsafeBufferPointer { wBuf in
                    c.start.withUnsafeBufferPointer { sBuf in
                        c.count.withUnsafeBufferPointer { nBuf in
                            guard let src = srcBuf.baseAddress,
                                  let wts = wBuf.baseAddress, let starts = sBuf.baseAddress,
                                  let counts = nBuf.baseAddress else { return }
                            for (oy, y) in rows.enumerated() {
                                let row = src + y * inStride
                                let orow = dst + oy * outStride
                                for x in 0..<outputWidth {
                                    let w = wts + x * ks
                                    var p = row + Int(starts[x]) * 3
                                    var r = half, g = half, b = half
                                    for i in 0..<Int(counts[x]) {
                                        let k = w[i]
                                        r &+= Int32(p[0]) &* k
                                        g &+= Int32(p[1]) &* k
                                        b &+= Int32(p[2]) &* k
                                        p += 3
                                    }
                                    orow[3 * x] = clip8(r)
                                    orow[3 * x + 1] = clip8(g)
                                    orow[3 * x + 2] = clip8(b)
                                }
                            }
                        }
                    }
                }
            }
        }
        return RGBImage(width: outputWidth, height: rows.count, pixels: out)
    }

    private static func verticalPass(_ image: RGBImage, coefficients c: Coefficients, outputHeight: Int) -> RGBImage {
        let stride = image.width * 3
        let half = Int32(1 << (precisionBits - 1))
        let ks = c.kernelSize
        // Accumulate whole rows at a time so the inner loop walks memory contiguously.
        var acc = [Int32](repeating: 0, count: stride)
        let out = [UInt8].uninitialized(count: stride * outputHeight) { dst in
            image.pixels.withUnsafeBufferPointer { srcBuf in
                acc.withUnsafeMutableBufferPointer { accBuf in
                    guard let src = srcBuf.baseAddress, let sum = accBuf.baseAddress else { return }
                    for y in 0..<outputHeight {
                        for i in 0..<stride { sum[i] = half }
                        let first = Int(c.start[y])
                        for j in 0..<Int(c.count[y]) {
                            let k = c.weights[y * ks + j]
                            let row = src + (first + j) * stride
                            for i in 0..<stride { sum[i] &+= Int32(row[i]) &* k }
                        }
                        let orow = dst + y * stride
                        for i in 0..<stride { orow[i] = clip8(sum[i]) }
                    }
                }
            }
        }
        return RGBImage(width: image.width, height: outputHeight, pixels: out)
    }

    @inline(__always)
    private static func clip8(_ v: Int32) -> UInt8 {
        let s = v >> Int32(precisionBits)
        return s < 0 ? 0 : s > 255 ? 255 : UInt8(truncatingIfNeeded: s)
    }
}
