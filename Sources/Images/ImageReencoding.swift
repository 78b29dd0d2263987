import CImageCodecs

/// Writing images the way the reference's dataset preparation writes them with Pillow, through the
/// same Debian libjpeg-turbo and libwebp that decode them.
public enum ImageReencoding {
    /// A JPEG mirrored left-right as `Image.open(src).transpose(Image.FLIP_LEFT_RIGHT).save(dst)`
    /// writes it for a `.jpg` name (Pillow 10: libjpeg defaults, quality 75, 4:2:0; the COM marker
    /// kept, EXIF and ICC dropped, EXIF orientation not applied). `name` is for error messages.
    public static func jpegFlippedLeftRight(_ data: [UInt8], name: String, maxPixels: Int = 2 * 89_478_485) throws(ImageError) -> [UInt8] {
        var out = svco_encoded()
        let status = data.withUnsafeBufferPointer { svco_jpeg_flip_left_right($0.baseAddress, $0.count, Double(maxPixels), &out) }
        defer { svco_encoded_free(&out) }
        guard status == 0, let bytes = out.data else {
            throw .corrupt(file: name, format: "JPEG", reason: message(&out))
        }
        return Array(UnsafeBufferPointer(start: bytes, count: out.size))
    }

    /// An RGB image as Pillow's `image.save(path, format="WEBP")` writes it (lossy, quality 80, method 4).
    public static func webp(_ image: RGBImage, quality: Float = 80, method: Int32 = 4, name: String) throws(ImageError) -> [UInt8] {
        let image = image.consistent()
        guard image.width > 0, image.height > 0, image.width <= 16383, image.height <= 16383 else {
            throw .unsupportedMode(file: name, detail: "\(image.width)x\(image.height) cannot be stored as WebP (1 to 16383 pixels a side)")
        }
        var out = svco_encoded()
        let status = image.pixels.withUnsafeBufferPointer {
            svco_webp_encode_rgb($0.baseAddress, Int32(image.width), Int32(image.height), quality, method, &out)
        }
        defer { svco_encoded_free(&out) }
        guard status == 0, let bytes = out.data else { throw .corrupt(file: name, format: "WebP", reason: message(&out)) }
        return Array(UnsafeBufferPointer(start: bytes, count: out.size))
    }

    private static func message(_ out: inout svco_encoded) -> String {
        withUnsafeBytes(of: &out.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
