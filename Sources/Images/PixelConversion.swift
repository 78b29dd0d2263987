/// Pillow's `convert("RGB")` arithmetic for the source layouts the codecs hand over.
/// All loops run over raw pointers: they touch every pixel of every image.
enum PixelConversion {
    static func greyToRGB(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, count: Int) {
        for i in 0..<count {
            let v = src[i]
            dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
        }
    }

    /// Drops every channel after the first three (RGBA -> RGB drops alpha, no compositing).
    static func dropChannels(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, count: Int, channels: Int) {
        for i in 0..<count {
            let s = src + channels * i
            dst[3 * i] = s[0]; dst[3 * i + 1] = s[1]; dst[3 * i + 2] = s[2]
        }
    }

    /// Grey replicated, alpha (or any second channel) dropped.
    static func greyAlphaToRGB(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, count: Int) {
        for i in 0..<count {
            let v = src[2 * i]
            dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
        }
    }

    /// libjpeg's CMYK samples as Pillow reads them: inverted ("CMYK;I"), then Convert.c's
    /// cmyk2rgb: channel = clip(nk - round(x * nk / 255)), nk = 255 - k.
    static func invertedCMYKToRGB(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, count: Int) {
        for i in 0..<count {
            let s = src + 4 * i
            let nk = Int(s[3])  // 255 - (255 - k)
            for c in 0..<3 {
                let x = 255 - Int(s[c])
                let t = x * nk + 128
                let mul = ((t >> 8) + t) >> 8
                dst[3 * i + c] = UInt8(clamping: nk - mul)
            }
        }
    }
}
