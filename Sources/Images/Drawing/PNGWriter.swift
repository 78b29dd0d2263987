import CImageCodecs
#if canImport(Glibc)
import Glibc
#endif

/// Writes 8-bit RGB images as PNG through libpng's simplified API, atomically (temporary file, then
/// rename), so an interrupted write never leaves half a picture.
public enum PNGWriter {
    public static func write(_ image: RGBImage, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_RGB)
        let ok = image.pixels.withUnsafeBytes { buffer in
            png_image_write_to_file(&png, temporary, 0, buffer.baseAddress, Int32(image.width * 3), nil)
        }
        png_image_free(&png)
        guard ok != 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ImageError.unreadable(file: path, reason: "could not write the PNG file")
        }
    }
}
