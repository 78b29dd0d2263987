/// An RGB drawing surface for simple charts.
public struct Canvas: Sendable {
    public typealias Colour = (UInt8, UInt8, UInt8)
    public private(set) var image: RGBImage

    public init(width: Int, height: Int, background: Colour = (255, 255, 255)) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = background.0
            pixels[i + 1] = background.1
            pixels[i + 2] = background.2
        }
        image = RGBImage(width: width, height: height, pixels: pixels)
    }

    public mutating func set(_ x: Int, _ y: Int, _ c: Colour) {
        guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
        let i = (y * image.width + x) * 3
        image.pixels[i] = c.0
        image.pixels[i + 1] = c.1
        image.pixels[i + 2] = c.2
    }

    /// A line `thickness` pixels wide (Bresenham, stamped with a square pen).
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: Colour, thickness: Int = 1) {
        var (x, y) = (x0, y0)
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        let r = thickness / 2
        while true {
            for ox in -r...(thickness - 1 - r) { for oy in -r...(thickness - 1 - r) { set(x + ox, y + oy, c) } }
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    public mutating func rectangle(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ c: Colour) {
        line(x, y, x + w, y, c)
        line(x, y + h, x + w, y + h, c)
        line(x, y, x, y + h, c)
        line(x + w, y, x + w, y + h, c)
    }

    /// Text in the 5×7 font (upper-cased), `scale` pixels per font pixel, top-left at (x, y).
    public mutating func text(_ s: String, _ x: Int, _ y: Int, _ c: Colour, scale: Int = 2) {
        var cx = x
        for ch in s.uppercased() {
            if let rows = BitmapFont.glyphs[ch] {
                for (row, bits) in rows.enumerated() {
                    for col in 0..<BitmapFont.width where bits & (0x10 >> UInt8(col)) != 0 {
                        for ox in 0..<scale { for oy in 0..<scale { set(cx + col * scale + ox, y + row * scale + oy, c) } }
                    }
                }
            }
            cx += (BitmapFont.width + 1) * scale
        }
    }

    /// Width in pixels of `s` at `scale`.
    public static func textWidth(_ s: String, scale: Int = 2) -> Int { s.count * (BitmapFont.width + 1) * scale }
}
