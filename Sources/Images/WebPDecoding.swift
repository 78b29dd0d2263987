import CImageCodecs

/// WebP through the system libwebp. Like Pillow, it goes through the animation decoder
/// (RGBA canvas, first frame), which also sets fully transparent pixels to black.
enum WebPDecoding {
    static func decode(_ data: UnsafeRawBufferPointer, name: String, maxPixels: Int) throws(ImageError) -> DecodedImage {
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw .corrupt(file: name, format: "WebP", reason: "empty file")
        }
        var webp = WebPData(bytes: base, size: data.count)
        var options = WebPAnimDecoderOptions()
        guard WebPAnimDecoderOptionsInit(&options) != 0 else {
            throw .corrupt(file: name, format: "WebP", reason: "libwebp version mismatch")
        }
        options.color_mode = MODE_RGBA
        options.use_threads = 0
        guard let decoder = WebPAnimDecoderNew(&webp, &options) else {
            throw .corrupt(file: name, format: "WebP", reason: "cannot parse the bitstream")
        }
        defer { WebPAnimDecoderDelete(decoder) }
        var info = WebPAnimInfo()
        guard WebPAnimDecoderGetInfo(decoder, &info) != 0 else {
            throw .corrupt(file: name, format: "WebP", reason: "cannot read the canvas header")
        }
        guard Double(info.canvas_width) * Double(info.canvas_height) <= Double(maxPixels) else {
            throw .corrupt(file: name, format: "WebP", reason:
                "\(info.canvas_width)x\(info.canvas_height) pixels exceed the limit of \(maxPixels) (decompression bomb?)")
        }
        var frame: UnsafeMutablePointer<UInt8>?
        var timestamp: Int32 = 0
        guard WebPAnimDecoderGetNext(decoder, &frame, &timestamp) != 0, let rgba = frame else {
            throw .corrupt(file: name, format: "WebP", reason: "cannot decode the first frame")
        }
        let width = Int(info.canvas_width), height = Int(info.canvas_height)
        let pixels = [UInt8].uninitialized(count: width * height * 3) { dst in
            PixelConversion.dropChannels(rgba, dst, count: width * height, channels: 4)
        }
        var metadata = ImageMetadata()
        if let demux = WebPAnimDecoderGetDemuxer(decoder) {
            metadata.exif = chunk(demux, "EXIF")
            metadata.xmp = chunk(demux, "XMP ")
        }
        return DecodedImage(image: RGBImage(width: width, height: height, pixels: pixels), metadata: metadata)
    }

    private static func chunk(_ demux: OpaquePointer, _ fourcc: String) -> [UInt8]? {
        var iter = WebPChunkIterator()
        guard WebPDemuxGetChunk(demux, fourcc, 1, &iter) != 0 else { return nil }
        defer { WebPDemuxReleaseChunkIterator(&iter) }
        guard let bytes = iter.chunk.bytes, iter.chunk.size > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: bytes, count: iter.chunk.size))
    }
}
