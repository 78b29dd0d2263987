import Foundation
import Testing
@testable import Images

@Suite struct PNGWriterTests {
    @Test func roundTripsThroughTheDecoder() throws {
        var canvas = Canvas(width: 31, height: 17, background: (10, 20, 30))
        canvas.line(0, 0, 30, 16, (250, 0, 0))
        canvas.text("A1", 2, 2, (0, 255, 0), scale: 1)
        let path = NSTemporaryDirectory() + "svco-png-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).png"
        try PNGWriter.write(canvas.image, to: path)
        let back = try ImageDecoder.decode(file: path)
        #expect(back.width == 31 && back.height == 17)
        #expect(back.pixels == canvas.image.pixels)
        // The corner pixels: the line's start, and the background.
        #expect(Array(back.pixels[0..<3]) == [250, 0, 0])
        #expect(Array(back.pixels[(30 * 3)..<(31 * 3)]) == [10, 20, 30])
        // 'A' row 0 is 01110: pixel (3, 2) lit, (2, 2) not.
        #expect(Array(back.pixels[((2 * 31 + 3) * 3)..<((2 * 31 + 4) * 3)]) == [0, 255, 0])
        #expect(Array(back.pixels[((2 * 31 + 2) * 3)..<((2 * 31 + 3) * 3)]) == [10, 20, 30])
    }

    @Test func unwritablePathIsAnError() {
        #expect { try PNGWriter.write(Canvas(width: 2, height: 2).image, to: "/nonexistent-dir/x.png") } throws: {
            "\($0)".contains("/nonexistent-dir/x.png")
        }
    }
}
