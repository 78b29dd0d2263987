import CImageCodecs

/// JPEG through the system libjpeg-turbo, converted to RGB the way Pillow's JPEG plugin and
/// `convert("RGB")` do it.
enum JPEGDecoding {
    static func decode(_ data: UnsafeRawBufferPointer, name: String, maxPixels: Int) throws(ImageError) -> DecodedImage {
        var raw = svco_decoded()
        let status = data.withMemoryRebound(to: UInt8.self) { bytes in
            svco_jpeg_decode(bytes.baseAddress, bytes.count, Double(maxPixels), &raw)
        }
        defer { svco_decoded_free(&raw) }
        guard status == 0, let src = raw.pixels else {
            throw .corrupt(file: name, format: "JPEG", reason: CodecText.message(&raw))
        }
        let width = Int(raw.width), height = Int(raw.height), channels = Int(raw.channels)
        let count = width * height
        let pixels = [UInt8].uninitialized(count: count * 3) { dst in
            switch channels {
            case 3:
                dst.update(from: src, count: count * 3)
            case 1:
                PixelConversion.greyToRGB(src, dst, count: count)
            default:
                // Pillow always reads 4-channel JPEGs as Adobe-inverted CMYK ("CMYK;I"), then
                // converts with r = 255 - k' - c'(255 - k')/255 on the re-inverted values.
                PixelConversion.invertedCMYKToRGB(src, dst, count: count)
            }
        }
        guard channels == 1 || channels == 3 || channels == 4 else {
            throw .unsupportedMode(file: name, detail: "JPEG with \(channels) components")
        }
        return DecodedImage(
            image: RGBImage(width: width, height: height, pixels: pixels),
            metadata: CodecText.metadata(&raw))
    }
}

/// Helpers shared by the libjpeg/libpng wrappers for reading the C result struct.
enum CodecText {
    static func message(_ raw: inout svco_decoded) -> String {
        let text = withUnsafeBytes(of: &raw.message) { buf -> String in
            let bytes = buf.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "decoder failed" : text
    }

    static func bytes(_ p: UnsafeMutablePointer<UInt8>?, _ n: Int) -> [UInt8]? {
        guard let p, n > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    static func metadata(_ raw: inout svco_decoded) -> ImageMetadata {
        ImageMetadata(
            exif: bytes(raw.exif, raw.exif_size),
            xmp: bytes(raw.xmp, raw.xmp_size),
            rawProfileExif: bytes(raw.raw_exif_text, raw.raw_exif_text_size))
    }
}
