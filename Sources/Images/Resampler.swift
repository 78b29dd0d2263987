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
    case lanczos = 1, bilinear = 2, bicubic = 3, box = 4, hamming = 5

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
        if image.width == width && image.height == height { return image }
        guard width > 0, height > 0, image.width > 0, image.height > 0 else {
            return RGBImage(width: max(width, 0), height: max(height, 0), pixels: [UInt8](repeating: 0, count: max(width, 0) * max(height, 0) * 3))
        }
        var current = image
        let vertical = coefficients(inputSize: image.height, outputSize: height, filter: filter)
        if width != image.width {
            // Only the input rows the vertical pass will read are filtered horizontally.
            let first = height != image.height ? Int(vertical.start[0]) : 0
            let last = height != image.height
                ? Int(vertical.start[height - 1] + vertical.count[height - 1]) : image.height
            let horizontal = coefficients(inputSize: image.width, outputSize: width, filter: filter)
            current = horizontalPass(image, rows: first..<last, coefficients: horizontal, outputWidth: width)
            if height != image.height {
                var shifted = vertical
                for i in 0..<height { shifted.start[i] -= Int32(first) }
                return verticalPass(current, coefficients: shifted, outputHeight: height)
            }
            return current
        }
        return verticalPass(current, coefficients: vertical, outputHeight: height)
    }

    private static func horizontalPass(_ image: RGBImage, rows: Range<Int>, coefficients c: Coefficients, outputWidth: Int) -> RGBImage {
        let inStride = image.width * 3
        let outStride = outputWidth * 3
        var out = [UInt8](repeating: 0, count: outStride * rows.count)
        let half = Int32(1 << (precisionBits - 1))
        let ks = c.kernelSize
        image.pixels.withUnsafeBufferPointer { srcBuf in
            out.withUnsafeMutableBufferPointer { dstBuf in
                c.weights.withUnsafeBufferPointer { wBuf in
                    c.start.withUnsafeBufferPointer { sBuf in
                        c.count.withUnsafeBufferPointer { nBuf in
                            guard let src = srcBuf.baseAddress, let dst = dstBuf.baseAddress,
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
        var out = [UInt8](repeating: 0, count: stride * outputHeight)
        let half = Int32(1 << (precisionBits - 1))
        let ks = c.kernelSize
        // Accumulate whole rows at a time so the inner loop walks memory contiguously.
        var acc = [Int32](repeating: 0, count: stride)
        image.pixels.withUnsafeBufferPointer { srcBuf in
            out.withUnsafeMutableBufferPointer { dstBuf in
                acc.withUnsafeMutableBufferPointer { accBuf in
                    guard let src = srcBuf.baseAddress, let dst = dstBuf.baseAddress,
                          let sum = accBuf.baseAddress else { return }
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
