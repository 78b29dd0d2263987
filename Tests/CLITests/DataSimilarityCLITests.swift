import Foundation
import Images
import Testing

/// `svco data similarity` end to end on real photos and their flipped / cropped / recoloured
/// variants, with the tiny random SigLIP (full SiglipModel folder) and DINOv2 (518-px grid, used at
/// 224) checkpoints: each pair's two cosine similarities equal transformers' (computed by
/// Tests/ModelsTests/Fixtures/vision-similarity/make_fixtures.py) within 1e-4; an interrupted run
/// keeps its finished batches and a rerun continues.
@Suite(.serialized) struct DataSimilarityCLITests {
    static let fixtures = CLITests.root + "/Tests/ModelsTests/Fixtures/vision-similarity"
    static let assets = CLITests.root + "/.deps/test-assets/images"

    struct Expected: Decodable {
        struct Image: Decodable { var height: Int; var width: Int; var crc32: UInt32 }
        struct Pair: Decodable {
            var images: [String]
            var siglip_similarity: Double
            var dinov2_similarity: Double
        }
        var photos: [String: String]
        var images: [String: Image]
        var pairs: [Pair]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: fixtures + "/similarities.json")))
    }

    /// The script's variants, on decoded pixels (row-major RGB): `flip` mirrors left-right, `crop`
    /// keeps rows h/8 ..< h − h/8 and columns w/6 ..< w − w/12, `recolour` rotates the channels
    /// (R, G, B) ← (G, B, R).
    static func variant(_ image: RGBImage, _ kind: String) -> RGBImage {
        let w = image.width, h = image.height, p = image.pixels
        switch kind {
        case "flip":
            var out = [UInt8](repeating: 0, count: p.count)
            for y in 0..<h { for x in 0..<w { for c in 0..<3 { out[(y * w + x) * 3 + c] = p[(y * w + (w - 1 - x)) * 3 + c] } } }
            return RGBImage(width: w, height: h, pixels: out)
        case "crop":
            let top = h / 8, bottom = h - h / 8, left = w / 6, right = w - w / 12
            var out: [UInt8] = []
            for y in top..<bottom { out += p[((y * w + left) * 3)..<((y * w + right) * 3)] }
            return RGBImage(width: right - left, height: bottom - top, pixels: out)
        default:
            var out = p
            for i in stride(from: 0, to: p.count, by: 3) { (out[i], out[i + 1], out[i + 2]) = (p[i + 1], p[i + 2], p[i]) }
            return RGBImage(width: w, height: h, pixels: out)
        }
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }

    /// Writes every image of the fixture as `<name>.png` into `dir` (checking its pixels are the
    /// script's), and the pairs file; returns the pairs in file order.
    static func prepare(_ dir: String, _ e: Expected) throws -> [Expected.Pair] {
        var made: [String: RGBImage] = [:]
        for (stem, relative) in e.photos {
            let photo = try ImageDecoder.decode(file: assets + "/" + relative)
            made[stem] = photo
            for kind in ["flip", "crop", "recolour"] { made["\(stem)-\(kind)"] = variant(photo, kind) }
        }
        #expect(Set(made.keys) == Set(e.images.keys))
        for (name, image) in made {
            let want = try #require(e.images[name])
            #expect(image.width == want.width && image.height == want.height && crc32(image.pixels) == want.crc32,
                    "\(name): pixels differ from the fixture script's")
            try PNGWriter.write(image, to: "\(dir)/img/\(name).png")
        }
        let records = e.pairs.enumerated().map { i, p in
            #"{"id": "pair-\#(i)", "images": ["img/\#(p.images[0]).png", "img/\#(p.images[1]).png"], "captions": ["a", "b"], "category": "test"}"#
        }
        try ("[" + records.joined(separator: ",\n") + "]").write(toFile: dir + "/pairs.json", atomically: true, encoding: .utf8)
        return e.pairs
    }

    static func folder() throws -> String {
        let dir = NSTemporaryDirectory() + "svco-similarity-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/img", withIntermediateDirectories: true)
        return dir
    }

    static func arguments(_ dir: String, batch: Int = 4) -> [String] {
        ["data", "similarity", "--data", dir + "/pairs.json", "--siglip", fixtures + "/siglip-tiny", "--dinov2", fixtures + "/dinov2-tiny",
         "--out", dir + "/scored.json", "--batch-size", "\(batch)"]
    }

    /// Compares the scored file with the fixture; returns the largest difference.
    static func check(_ path: String, _ pairs: [Expected.Pair]) throws -> Double {
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [[String: Any]])
        #expect(rows.count == pairs.count)
        var worst = 0.0
        for (i, (row, pair)) in zip(rows, pairs).enumerated() {
            #expect(row["id"] as? String == "pair-\(i)" && row["captions"] as? [String] == ["a", "b"] && row["category"] as? String == "test")
            let s = try #require(row["siglip_similarity"] as? Double), d = try #require(row["dinov2_similarity"] as? Double)
            worst = max(worst, abs(s - pair.siglip_similarity), abs(d - pair.dinov2_similarity))
            #expect(abs(s - pair.siglip_similarity) <= 1e-4, "\(pair.images) SigLIP \(s) vs \(pair.siglip_similarity)")
            #expect(abs(d - pair.dinov2_similarity) <= 1e-4, "\(pair.images) DINOv2 \(d) vs \(pair.dinov2_similarity)")
        }
        return worst
    }

    @Test func similaritiesEqualTransformers() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pairs = try Self.prepare(dir, Self.expected())
        let r = try CLITests.run(Self.arguments(dir))
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("15 pairs scored"), "\(r.output)")
        let worst = try Self.check(dir + "/scored.json", pairs)
        print("svco data similarity: 15 pairs, largest difference from transformers \(worst)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/scored.json.partial"))
    }

    @Test func anInterruptedRunContinues() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pairs = try Self.prepare(dir, Self.expected())
        // Pair 9's second image (rocket-flip) cannot be decoded: the run stops at its batch with an
        // error naming the file, after keeping the three batches before it.
        let broken = "\(dir)/img/\(pairs[9].images[1]).png"
        let good = try Data(contentsOf: URL(fileURLWithPath: broken))
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: broken))
        let first = try CLITests.run(Self.arguments(dir, batch: 3))
        #expect(first.status != 0 && first.output.contains(broken), "\(first.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/scored.json"))
        let partial = try String(contentsOfFile: dir + "/scored.json.partial", encoding: .utf8)
        #expect(partial.split(separator: "\n").count == 1 + 9, "\(partial)")  // header + three batches of three

        try good.write(to: URL(fileURLWithPath: broken))
        let second = try CLITests.run(Self.arguments(dir, batch: 3))
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("6 pairs scored, 9 resumed from \(dir)/scored.json.partial"), "\(second.output)")
        _ = try Self.check(dir + "/scored.json", pairs)
        #expect(!FileManager.default.fileExists(atPath: dir + "/scored.json.partial"))
    }

    @Test func badFlagsAndFolders() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Self.prepare(dir, Self.expected())
        let zero = try CLITests.run(Self.arguments(dir, batch: 0))
        #expect(zero.status == 64 && zero.output.contains("--batch-size must be at least 1"), "\(zero.output)")
        var swapped = Self.arguments(dir)
        swapped[5] = Self.fixtures + "/dinov2-tiny"  // --siglip given a DINOv2 folder
        let wrong = try CLITests.run(swapped)
        #expect(wrong.status != 0 && wrong.output.contains("dinov2-tiny") && wrong.output.contains("siglip"), "\(wrong.output)")
        var missing = Self.arguments(dir)
        missing[7] = dir + "/nowhere"
        let none = try CLITests.run(missing)
        #expect(none.status != 0 && none.output.contains("\(dir)/nowhere"), "\(none.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/scored.json"))
    }
}
