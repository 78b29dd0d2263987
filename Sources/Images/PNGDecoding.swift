import CImageCodecs

/// PNG through the system libpng, converted to RGB with Pillow's rules for each PNG layout
/// (PngImagePlugin's mode table followed by `convert("RGB")`).
enum PNGDecoding {
    static func decode(_ data: UnsafeRawBufferPointer, name: String, maxPixels: Int) throws(ImageError) -> DecodedImage {
        var raw = svco_decoded()
        let status = data.withMemoryRebound(to: UInt8.self) { bytes in
            svco_png_decode(bytes.baseAddress, bytes.count, Double(maxPixels), &raw)
        }
        defer { svco_decoded_free(&raw) }
        guard status == 0, let src = raw.pixels else {
            throw .corrupt(file: name, format: "PNG", reason: CodecText.message(&raw))
        }
        let width = Int(raw.width), height = Int(raw.height)
        let channels = Int(raw.channels), wide = raw.bit_depth == 16
        let count = width * height
        let paletteSize = Int(raw.palette_size)
        var palette = [UInt8](repeating: 0, count: 256 * 3)  // Pillow: unused entries are black
        withUnsafeBytes(of: &raw.palette) { p in
            for i in 0..<(paletteSize * 3) { palette[i] = p[i] }
        }
        let colorType = Int(raw.color_type), bits = Int(raw.source_bits)
        var failure: ImageError?
        let pixels = [UInt8].uninitialized(count: count * 3) { dst in
            switch (colorType, wide) {
            case (0, false):
                // Pillow modes "1", "L;2", "L;4", "L": samples scaled to 0...255.
                let scale: UInt8 = bits == 1 ? 255 : bits == 2 ? 85 : bits == 4 ? 17 : 1
                if scale == 1 {
                    PixelConversion.greyToRGB(src, dst, count: count)
                } else {
                    for i in 0..<count {
                        let v = src[i] &* scale
                        dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                    }
                }
            case (0, true):
                // Mode "I;16"; convert("RGB") clips to 255 (any non-zero high byte gives 255).
                for i in 0..<count {
                    let v = src[2 * i] == 0 ? src[2 * i + 1] : 255
                    dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                }
            case (2, false):
                dst.update(from: src, count: count * 3)
            case (6, false):
                PixelConversion.dropChannels(src, dst, count: count, channels: channels)
            case (2, true), (6, true):
                // "RGB;16B" / "RGBA;16B": Pillow keeps the most significant byte.
                for i in 0..<count {
                    let s = src + 2 * channels * i
                    dst[3 * i] = s[0]; dst[3 * i + 1] = s[2]; dst[3 * i + 2] = s[4]
                }
            case (4, false):
                PixelConversion.greyAlphaToRGB(src, dst, count: count)
            case (4, true):
                // "LA;16B" unpacks to RGBA from the most significant grey byte.
                for i in 0..<count {
                    let v = src[4 * i]
                    dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                }
            case (3, false):
                palette.withUnsafeBufferPointer { pal in
                    for i in 0..<count {
                        let e = 3 * Int(src[i])
                        dst[3 * i] = pal[e]; dst[3 * i + 1] = pal[e + 1]; dst[3 * i + 2] = pal[e + 2]
                    }
                }
            default:
                failure = .unsupportedMode(
                    file: name, detail: "PNG colour type \(colorType) with \(bits)-bit samples")
            }
        }
        if let failure { throw failure }
        return DecodedImage(
            image: RGBImage(width: width, height: height, pixels: pixels),
            metadata: CodecText.metadata(&raw))
    }
}
