#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How `ImageDecoder` treats metadata.
public struct DecodeOptions: Sendable {
    /// Rotate/flip by the EXIF (or XMP) orientation, as transformers' `load_image` does through
    /// `ImageOps.exif_transpose`. On by default.
    public var applyEXIFOrientation: Bool
    /// Larger images are refused before decoding. Pillow refuses (DecompressionBombError) above
    /// twice its `MAX_IMAGE_PIXELS` of 89,478,485, which is the default here too.
    public var maxPixels: Int

    /// Options with HF's / Pillow's defaults.
    public init(applyEXIFOrientation: Bool = true, maxPixels: Int = 2 * 89_478_485) {
        self.applyEXIFOrientation = applyEXIFOrientation
        self.maxPixels = maxPixels
    }
}

/// Decodes JPEG, PNG and WebP files into RGB exactly as Pillow's
/// `ImageOps.exif_transpose(Image.open(path)).convert("RGB")`.
public enum ImageDecoder {
    /// Container formats recognised by their leading bytes.
    public enum Format: String, Sendable {
        case jpeg = "JPEG", png = "PNG", webp = "WebP"
    }

    /// Reads and decodes the file at `path`.
    public static func decode(file path: String, options: DecodeOptions = DecodeOptions()) throws -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImageError.unreadable(file: path, reason: "\(error)")
        }
        return try data.withUnsafeBytes { buf in try decode(buffer: buf, name: path, options: options) }
    }

    /// Decodes an in-memory file; `name` is used in error messages.
    public static func decode(data: [UInt8], name: String, options: DecodeOptions = DecodeOptions()) throws -> RGBImage {
        try data.withUnsafeBytes { buf in try decode(buffer: buf, name: name, options: options) }
    }

    /// The format of a file from its first bytes, or nil when it is none of the supported ones.
    public static func sniff(_ head: UnsafeRawBufferPointer) -> Format? {
        let b = head
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        if b.count >= 8, Array(b[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if b.count >= 12, Array(b[0..<4]) == Array("RIFF".utf8), Array(b[8..<12]) == Array("WEBP".utf8) {
            return .webp
        }
        return nil
    }

    static func decode(buffer: UnsafeRawBufferPointer, name: String, options: DecodeOptions) throws(ImageError) -> RGBImage {
        guard let format = sniff(buffer) else {
            throw .unsupportedFormat(file: name, detail: describe(buffer))
        }
        let decoded: DecodedImage
        switch format {
        case .jpeg: decoded = try JPEGDecoding.decode(buffer, name: name, maxPixels: options.maxPixels)
        case .png: decoded = try PNGDecoding.decode(buffer, name: name, maxPixels: options.maxPixels)
        case .webp: decoded = try WebPDecoding.decode(buffer, name: name, maxPixels: options.maxPixels)
        }
        guard options.applyEXIFOrientation, let o = EXIFOrientation.orientation(of: decoded.metadata) else {
            return decoded.image
        }
        return EXIFOrientation.apply(o, to: decoded.image)
    }

    /// Names the container for the error message when it is a known unsupported one.
    private static func describe(_ b: UnsafeRawBufferPointer) -> String {
        func starts(_ s: [UInt8]) -> Bool { b.count >= s.count && Array(b[0..<s.count]) == s }
        if b.isEmpty { return "empty file" }
        if starts(Array("GIF8".utf8)) { return "GIF" }
        if starts(Array("BM".utf8)) { return "BMP" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        if starts([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50]) || starts([0xFF, 0x4F, 0xFF, 0x51]) { return "JPEG 2000" }
        if b.count >= 12, Array(b[4..<8]) == Array("ftyp".utf8) { return "ISO media (AVIF/HEIF)" }
        if starts(Array("RIFF".utf8)) { return "RIFF container that is not WebP" }
        return "unrecognised leading bytes"
    }
}
