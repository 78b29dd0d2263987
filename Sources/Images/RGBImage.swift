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
