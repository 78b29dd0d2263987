/// An 8-bit RGB image, the common currency between decoding and preprocessing.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Row-major HWC bytes, three per pixel (R, G, B), `width * height * 3` in all.
    public var pixels: [UInt8]

    /// Wraps existing pixels; `pixels.count` must be `width * height * 3`
    /// (callers that build images by hand are trusted; decoders always produce consistent sizes).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A `width` x `height` image filled with one colour.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8)) {
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: width * height * 3)
        p.withUnsafeMutableBufferPointer { buf in
            var i = 0
            while i < buf.count {
                buf[i] = fill.0; buf[i + 1] = fill.1; buf[i + 2] = fill.2
                i += 3
            }
        }
        pixels = p
    }
}

extension RGBImage {
    /// This image with a layout every routine can trust: negative sizes become 0 and `pixels`
    /// is cut or padded with black to `width * height * 3`. Decoders always produce consistent
    /// images; this guards hand-built values so that no public routine reads out of bounds.
    public func consistent() -> RGBImage {
        let w = max(width, 0), h = max(height, 0)
        let (n, overflow) = w.multipliedReportingOverflow(by: h * 3)
        if !overflow && w == width && h == height && pixels.count == n { return self }
        if overflow { return RGBImage(width: 0, height: 0, pixels: []) }
        var p = Array(pixels.prefix(n))
        if p.count < n { p += [UInt8](repeating: 0, count: n - p.count) }
        return RGBImage(width: w, height: h, pixels: p)
    }
}

/// Model input: channel-first floats.
public struct ProcessedImage: Sendable, Equatable {
    /// `shape[0] * shape[1] * shape[2]` values, channel-major (CHW).
    public var values: [Float]
    /// `[3, height, width]`.
    public var shape: [Int]

    /// Wraps values of the given CHW shape.
    public init(values: [Float], shape: [Int]) {
        self.values = values
        self.shape = shape
    }
}

extension Array where Element: BitwiseCopyable {
    /// An array whose `count` elements are all written by `body` — no zero-fill first, which
    /// matters for the multi-megabyte pixel buffers on the per-image hot path.
    @inline(__always)
    static func uninitialized(count: Int, _ body: (UnsafeMutablePointer<Element>) -> Void) -> [Element] {
        [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0, let base = buffer.baseAddress { body(base) }
            initialized = count
        }
    }
}
