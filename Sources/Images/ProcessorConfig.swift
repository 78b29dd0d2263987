#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A `size` / `crop_size` entry of `preprocessor_config.json`: an integer, or a dictionary with
/// `shortest_edge`, or with `height` and `width`.
public struct ImageSize: Codable, Sendable, Equatable {
    /// Resize so the short side has this length (keeping the aspect ratio).
    public var shortestEdge: Int?
    /// Target height (with `width`).
    public var height: Int?
    /// Target width (with `height`).
    public var width: Int?

    enum CodingKeys: String, CodingKey {
        case shortestEdge = "shortest_edge", height, width
    }

    /// A `shortest_edge` size.
    public static func shortestEdge(_ v: Int) -> ImageSize { ImageSize(shortestEdge: v, height: nil, width: nil) }
    /// A fixed `height` x `width`.
    public static func fixed(height: Int, width: Int) -> ImageSize { ImageSize(shortestEdge: nil, height: height, width: width) }

    init(shortestEdge: Int?, height: Int?, width: Int?) {
        self.shortestEdge = shortestEdge; self.height = height; self.width = width
    }

    public init(from decoder: Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let v = try? single.decode(Int.self) {
            // HF's get_size_dict: a bare integer is a square for crops, a shortest edge for resizes;
            // the owning config resolves which (see `squareIfBare`).
            self.init(shortestEdge: v, height: nil, width: nil)
            bare = true
        } else {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                shortestEdge: try c.decodeIfPresent(Int.self, forKey: .shortestEdge),
                height: try c.decodeIfPresent(Int.self, forKey: .height),
                width: try c.decodeIfPresent(Int.self, forKey: .width))
            if shortestEdge == nil && (height == nil || width == nil) {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: decoder.codingPath,
                    debugDescription: "needs 'shortest_edge' or both 'height' and 'width'"))
            }
        }
        try validate(decoder)
    }

    private func validate(_ decoder: Decoder) throws {
        for v in [shortestEdge, height, width].compactMap({ $0 }) where v <= 0 || v > 16384 {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "size \(v) is out of range 1...16384"))
        }
    }

    /// Set when the JSON held a bare integer.
    var bare = false

    /// HF's `get_size_dict(..., default_to_square=True)` for a bare integer.
    func squareIfBare() -> ImageSize {
        guard bare, let v = shortestEdge else { return self }
        return .fixed(height: v, width: v)
    }

    public static func == (a: ImageSize, b: ImageSize) -> Bool {
        a.shortestEdge == b.shortestEdge && a.height == b.height && a.width == b.width
    }
}

/// `image_mean` / `image_std`: one number for all channels or three.
struct ChannelValues: Codable, Sendable {
    var values: [Double]

    init(_ values: [Double]) { self.values = values }

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Double.self) {
            values = [v, v, v]
        } else {
            values = try c.decode([Double].self)
        }
        guard values.count == 3 || values.count == 1 else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "expected 1 or 3 values, found \(values.count)"))
        }
        if values.count == 1 { values = [values[0], values[0], values[0]] }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }
}

/// Decodes the `resample` field: a Pillow filter number.
func decodeResample<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, default d: ResampleFilter) throws -> ResampleFilter {
    guard let v = try c.decodeIfPresent(Int.self, forKey: key) else { return d }
    guard let f = ResampleFilter(rawValue: v) else {
        throw DecodingError.dataCorruptedError(
            forKey: key, in: c,
            debugDescription: "resample \(v) is not supported (1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)")
    }
    return f
}

/// Rejects a standard deviation of zero, which would turn every pixel into inf/nan.
func checkStd<K: CodingKey>(_ std: [Double], _ c: KeyedDecodingContainer<K>, _ key: K) throws {
    if std.contains(where: { $0 == 0 || !$0.isFinite }) {
        throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "every value must be finite and non-zero")
    }
}
