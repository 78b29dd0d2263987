/// Metadata blocks a codec found that may carry an orientation.
struct ImageMetadata: Sendable {
    /// EXIF as stored (JPEG APP1 with "Exif\0\0", PNG eXIf, WebP EXIF chunk).
    var exif: [UInt8]?
    /// XMP packet text.
    var xmp: [UInt8]?
    /// PNG text "Raw profile type exif" written by ImageMagick (hex dump after three lines).
    var rawProfileExif: [UInt8]?
}

/// A decoded image plus the metadata needed to orient it.
struct DecodedImage: Sendable {
    var image: RGBImage
    var metadata: ImageMetadata
}

/// The EXIF Orientation tag (0x0112), read the way Pillow's `Image.getexif()` does it:
/// the EXIF block first (or ImageMagick's hex text in PNGs), then `tiff:Orientation` in XMP.
/// Applied as `ImageOps.exif_transpose` does, which transformers' `load_image` calls.
public enum EXIFOrientation {
    /// The orientation value (1...8 when meaningful), or nil when the image has none.
    static func orientation(of metadata: ImageMetadata) -> Int? {
        var tiff: [UInt8]? = metadata.exif
        if tiff == nil, let text = metadata.rawProfileExif { tiff = hexPayload(text) }
        if let block = tiff, let value = fromEXIF(block) { return value }
        if let xmp = metadata.xmp { return fromXMP(xmp) }
        return nil
    }

    /// Orientation from an EXIF/TIFF block ("Exif\0\0" prefix optional): IFD0, tag 0x0112,
    /// a single SHORT or LONG. Malformed blocks give nil rather than an error.
    static func fromEXIF(_ data: [UInt8]) -> Int? {
        var d = data[...]
        if d.starts(with: [0x45, 0x78, 0x69, 0x66, 0, 0]) { d = d.dropFirst(6) }
        let b = Array(d)
        guard b.count >= 8 else { return nil }
        let little: Bool
        if b[0] == 0x49 && b[1] == 0x49 { little = true } else if b[0] == 0x4D && b[1] == 0x4D { little = false } else { return nil }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= b.count else { return nil }
            return little ? Int(b[o]) | Int(b[o + 1]) << 8 : Int(b[o]) << 8 | Int(b[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let lo = u16(little ? o : o + 2), let hi = u16(little ? o + 2 : o) else { return nil }
            return hi << 16 | lo
        }
        guard let ifd = u32(4), let count = u16(ifd) else { return nil }
        for i in 0..<count {
            let e = ifd + 2 + 12 * i
            guard let tag = u16(e), let type = u16(e + 2), let n = u32(e + 4) else { return nil }
            guard tag == 0x0112 else { continue }
            guard n == 1 else { return nil }
            switch type {
            case 3: return u16(e + 8)
            case 4: return u32(e + 8)
            default: return nil
            }
        }
        return nil
    }

    /// First `tiff:Orientation="N"` or `tiff:Orientation>N` in an XMP packet.
    static func fromXMP(_ data: [UInt8]) -> Int? {
        let key = Array("tiff:Orientation".utf8)
        guard data.count > key.count + 1 else { return nil }
        var i = 0
        while i + key.count + 1 < data.count {
            if data[i] == key[0] && Array(data[i..<(i + key.count)]) == key {
                var j = i + key.count
                if data[j] == UInt8(ascii: "=") && j + 1 < data.count && data[j + 1] == UInt8(ascii: "\"") {
                    j += 2
                } else if data[j] == UInt8(ascii: ">") {
                    j += 1
                } else {
                    i += 1
                    continue
                }
                if j < data.count, data[j] >= 0x30, data[j] <= 0x39 { return Int(data[j] - 0x30) }
            }
            i += 1
        }
        return nil
    }

    /// ImageMagick's "Raw profile type exif": a header of three lines, then hex digits.
    static func hexPayload(_ text: [UInt8]) -> [UInt8]? {
        var lines = 0, start = text.count
        for (i, c) in text.enumerated() where c == 0x0A {
            lines += 1
            if lines == 3 { start = i + 1; break }
        }
        var out: [UInt8] = []
        var high: UInt8?
        for c in text[start...] {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x41...0x46: v = c - 0x41 + 10
            case 0x61...0x66: v = c - 0x61 + 10
            case 0x0A, 0x0D, 0x20, 0x09: continue
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    /// Applies orientation 2...8 (Pillow's transpose for each); other values return the image.
    public static func apply(_ orientation: Int, to image: RGBImage) -> RGBImage {
        let image = image.consistent()
        let w = image.width, h = image.height
        // Each output row reads the source along a line: offset(x, y) = base(y) + x * step.
        let swapped: Bool
        let base: (Int) -> Int
        let step: Int
        switch orientation {
        case 2: swapped = false; base = { y in y * w + w - 1 }; step = -1
        case 3: swapped = false; base = { y in (h - 1 - y) * w + w - 1 }; step = -1
        case 4: swapped = false; base = { y in (h - 1 - y) * w }; step = 1
        case 5: swapped = true; base = { y in y }; step = w
        case 6: swapped = true; base = { y in (h - 1) * w + y }; step = -w
        case 7: swapped = true; base = { y in (h - 1) * w + w - 1 - y }; step = -w
        case 8: swapped = true; base = { y in w - 1 - y }; step = w
        default: return image
        }
        let ow = swapped ? h : w, oh = swapped ? w : h
        let out = [UInt8].uninitialized(count: ow * oh * 3) { dst in
            image.pixels.withUnsafeBufferPointer { srcBuf in
                guard let src = srcBuf.baseAddress else { return }
                for y in 0..<oh {
                    var s = base(y)
                    let row = dst + y * ow * 3
                    for x in 0..<ow {
                        let p = src + 3 * s
                        row[3 * x] = p[0]; row[3 * x + 1] = p[1]; row[3 * x + 2] = p[2]
                        s += step
                    }
                }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: out)
    }
}
