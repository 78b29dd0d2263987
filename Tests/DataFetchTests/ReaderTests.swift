import DataFetch
import Foundation
import Images
import Parquet
import Testing

/// The parquet reader on files pyarrow 18 wrote, libarchive extraction, and the two images the
/// preparation writes (left-right flip, RealWorldQA's WebP) against Pillow 10.2's own output.
@Suite struct ReaderTests {
    @Test func parquetImageColumnsAsPyarrowWroteThem() throws {
        // File 0: Snappy, dictionary pages, two row groups; file 1: uncompressed PLAIN, data page v2.
        var rows: [[UInt8]] = []
        var questions: [String] = []
        for name in ["test-00000-of-00002.parquet", "test-00001-of-00002.parquet"] {
            let file = try ParquetFile(path: try FetchFixtures.path("hub/dataset/xai-org/RealworldQA/data/" + name))
            #expect(file.columnPaths == ["image.bytes", "image.path", "question", "answer"])
            try file.forEachValue(column: "image.bytes") { _, v in rows.append(v ?? []) }
            try file.forEachValue(column: "question") { _, v in questions.append(String(decoding: v ?? [], as: UTF8.self)) }
            var nulls = 0
            try file.forEachValue(column: "image.path") { _, v in if v == nil { nulls += 1 } }
            #expect(nulls == file.rowCount)
        }
        #expect(rows.count == 6)
        for (i, row) in rows.enumerated() {
            #expect(row == (try FetchFixtures.bytes("expected/realworldqa_raw/\(i + 1).bin")), "row \(i)")
        }
        #expect(questions == ["q0", "q1", "q2", "q3", "q0", "q1"])
    }

    @Test func parquetRefusesWhatItCannotRead() throws {
        let gzip = try FetchFixtures.path("bad/gzip.parquet")
        #expect { try ParquetFile(path: gzip).forEachValue(column: "image.bytes") { _, _ in } } throws: { e in
            "\(e)".contains(gzip) && "\(e)".contains("GZIP")
        }
        let truncated = try FetchFixtures.path("bad/truncated.parquet")
        #expect { try ParquetFile(path: truncated) } throws: { e in "\(e)".contains(truncated) && "\(e)".contains("PAR1") }
        let good = try ParquetFile(path: try FetchFixtures.path("hub/dataset/xai-org/RealworldQA/data/test-00000-of-00002.parquet"))
        #expect { try good.forEachValue(column: "image") { _, _ in } } throws: { e in "\(e)".contains("no column 'image'") }
    }

    @Test func archivesUnpackSafelyAndOnce() throws {
        let out = try FetchFixtures.temporaryFolder("archive")
        let evil = try FetchFixtures.path("bad/evil.zip")
        #expect { try ArchiveExtractor.extract(evil, into: out + "/evil") } throws: { e in
            "\(e)".contains("'../evil.txt' would be written outside")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/evil.txt"))
        let corrupt = try FetchFixtures.path("bad/corrupt.zip")
        #expect { try ArchiveExtractor.extract(corrupt, into: out + "/corrupt") } throws: { e in "\(e)".contains(corrupt) }
        #expect(!FileManager.default.fileExists(atPath: out + "/corrupt/a.bin"))

        let tgz = try FetchFixtures.path("hub/dataset/HanSolo9682/Flickr30k-Counterfactuals/train_data.tar.gz")
        #expect(try ArchiveExtractor.extract(tgz, into: out + "/t") == 6)
        #expect(FileManager.default.fileExists(atPath: out + "/t/train_data/counting/neg/1000523639_0.jpg"))
        #expect(FileManager.default.fileExists(atPath: out + "/t/train_data/left_right/neg"))
        #expect(try ArchiveExtractor.extract(tgz, into: out + "/t") == 0)  // the marker: done before
    }

    @Test func leftRightFlipIsPillowsByteForByte() throws {
        for id in ["10002456", "1000268201", "1000344755", "1000366164"] {
            let source = try FetchFixtures.bytes("expected/flickr/\(id).jpg")
            let expected = try FetchFixtures.bytes("expected/left_right_neg/\(id).jpg")
            let ours = try ImageReencoding.jpegFlippedLeftRight(source, name: id)
            #expect(ours == expected, "\(id): \(ours.count) vs \(expected.count) bytes")
            let a = try ImageDecoder.decode(data: ours, name: "ours", options: DecodeOptions(applyEXIFOrientation: false))
            let b = try ImageDecoder.decode(data: expected, name: "pillow", options: DecodeOptions(applyEXIFOrientation: false))
            #expect(a == b, "\(id): decoded pixels")
        }
        #expect { try ImageReencoding.jpegFlippedLeftRight(Array("not a jpeg".utf8), name: "x.jpg") } throws: { e in "\(e)".contains("x.jpg") }
    }

    @Test func realWorldQAWebPsArePillowsByteForByte() throws {
        let out = try FetchFixtures.temporaryFolder("webp")
        let files = ["test-00000-of-00002.parquet", "test-00001-of-00002.parquet"].map {
            (try? FetchFixtures.path("hub/dataset/xai-org/RealworldQA/data/" + $0)) ?? ""
        }
        #expect(try RealWorldQAImages.write(parquetFiles: files, into: out) == 6)
        for n in 1...6 {
            let ours = Array(FileManager.default.contents(atPath: out + "/\(n).webp") ?? Data())
            let expected = try FetchFixtures.bytes("expected/realworldqa/\(n).webp")
            #expect(ours == expected, "\(n).webp: \(ours.count) vs \(expected.count) bytes")
        }
    }
}
