import Foundation
import Testing
import Tokenizers
@testable import DatasetBuilding

/// The resumable I/O of `svco data similarity`, with a stand-in scorer (the models have their
/// own tests): partial results survive a failure, a rerun scores only the rest, torn lines and
/// foreign progress files are handled, every field is kept.
@Suite struct SimilarityScoringTests {
    struct Interrupted: Error {}

    /// A folder with `n` records (two image files each; only their existence matters here).
    static func folder(records n: Int) throws -> String {
        let dir = NSTemporaryDirectory() + "svco-sim-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/img", withIntermediateDirectories: true)
        var records: [String] = []
        for i in 0..<n {
            for side in ["a", "b"] { try Data([1, 2, 3]).write(to: URL(fileURLWithPath: "\(dir)/img/\(i)\(side).png")) }
            records.append(#"{"id": "p\#(i)", "images": ["img/\#(i)a.png", "img/\#(i)b.png"], "note": {"n": \#(i)}, "captions": ["x", "y"]}"#)
        }
        try ("[" + records.joined(separator: ",\n") + "]").write(toFile: dir + "/pairs.json", atomically: true, encoding: .utf8)
        return dir
    }

    /// A deterministic stand-in: similarities from the record number.
    static func fake(_ pair: ImagePair) -> PairSimilarity {
        PairSimilarity(siglip: 0.5 + Double(pair.record) / 100, dinov2: -Double(pair.record) / 1000)
    }

    @Test func resumesAfterAFailureAndKeepsEveryField() throws {
        let dir = try Self.folder(records: 7)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stage = SimilarityScoring(input: dir + "/pairs.json", output: dir + "/scored.json", batchSize: 2, models: "m1")
        var calls: [[Int]] = []
        #expect(throws: Interrupted.self) {
            _ = try stage.run { batch in
                calls.append(batch.map(\.record))
                if calls.count == 3 { throw Interrupted() }
                return batch.map(Self.fake)
            }
        }
        #expect(calls == [[0, 1], [2, 3], [4, 5]])
        #expect(!FileManager.default.fileExists(atPath: dir + "/scored.json"))
        let partial = try String(contentsOfFile: stage.progressPath, encoding: .utf8).split(separator: "\n")
        #expect(partial.count == 5 && partial[0].contains("similarity-progress") && partial[4].contains(#""record": 3"#))

        calls = []
        var reported: [(Int, Int, Int)] = []
        let report = try stage.run(progress: { reported.append(($0, $1, $2)) }) { batch in
            calls.append(batch.map(\.record))
            // Paths arrive resolved against the data file's folder.
            #expect(batch.allSatisfy { $0.first == "\(dir)/img/\($0.record)a.png" && $0.second == "\(dir)/img/\($0.record)b.png" })
            return batch.map(Self.fake)
        }
        #expect(calls == [[4, 5], [6]])
        #expect(report == .init(records: 7, resumed: 4, scored: 3))
        #expect(reported.map(\.0) == [4, 6, 7] && reported.allSatisfy { $0.1 == 7 && $0.2 == 4 })
        #expect(!FileManager.default.fileExists(atPath: stage.progressPath))

        let out = try PairFile(path: dir + "/scored.json")
        #expect(out.records.count == 7)
        for (i, record) in out.records.enumerated() {
            guard case let .object(members) = record else { Issue.record("not an object"); continue }
            #expect(members.map(\.0) == ["id", "images", "note", "captions", "siglip_similarity", "dinov2_similarity"])
            #expect(record["note"] == .object([("n", .integer(i))]))
            #expect(record["siglip_similarity"] == .number(0.5 + Double(i) / 100) && record["dinov2_similarity"] == .number(-Double(i) / 1000))
        }
    }

    @Test func tornLastLineIsScoredAgain() throws {
        let dir = try Self.folder(records: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stage = SimilarityScoring(input: dir + "/pairs.json", output: dir + "/scored.json", batchSize: 1, models: "m")
        var n = 0
        _ = try? stage.run { batch in
            n += 1
            if n == 2 { throw Interrupted() }
            return batch.map(Self.fake)
        }
        // A crash in the middle of writing record 1's line.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stage.progressPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"record": 1, "siglip_simi"#.utf8))
        try handle.close()
        var calls: [Int] = []
        _ = try stage.run { batch in
            calls += batch.map(\.record)
            return batch.map(Self.fake)
        }
        #expect(calls == [1, 2])
        #expect(try PairFile(path: dir + "/scored.json").records[1]["siglip_similarity"] == .number(0.51))
    }

    @Test func aProgressFileOfAnotherRunIsRefused() throws {
        let dir = try Self.folder(records: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stage = SimilarityScoring(input: dir + "/pairs.json", output: dir + "/scored.json", batchSize: 1, models: "m1")
        _ = try? stage.run { _ in throw Interrupted() }
        #expect(FileManager.default.fileExists(atPath: stage.progressPath))
        let other = SimilarityScoring(input: dir + "/pairs.json", output: dir + "/scored.json", batchSize: 1, models: "m2")
        #expect { _ = try other.run { $0.map(Self.fake) } } throws: {
            "\($0)".contains("scored.json.partial: belongs to another run") && "\($0)".contains("delete it to start over")
        }
        // The input changed: refused too.
        try "[]".write(toFile: dir + "/pairs.json", atomically: true, encoding: .utf8)
        #expect { _ = try stage.run { $0.map(Self.fake) } } throws: { "\($0)".contains("holds no records") }
        // Garbage in the middle of the file is not silently dropped.
        let fresh = try Self.folder(records: 2)
        defer { try? FileManager.default.removeItem(atPath: fresh) }
        let s2 = SimilarityScoring(input: fresh + "/pairs.json", output: fresh + "/scored.json", batchSize: 1, models: "m")
        _ = try? s2.run { _ in throw Interrupted() }
        var text = try String(contentsOfFile: s2.progressPath, encoding: .utf8)
        text += "not json\n" + #"{"record": 0, "siglip_similarity": 0.1, "dinov2_similarity": 0.2}"# + "\n"
        try text.write(toFile: s2.progressPath, atomically: true, encoding: .utf8)
        #expect { _ = try s2.run { $0.map(Self.fake) } } throws: { "\($0)".contains("line 2 is not a score line") }
    }

    @Test func badInputFailsBeforeAnyScoring() throws {
        let dir = try Self.folder(records: 3)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.removeItem(atPath: dir + "/img/2b.png")
        let stage = SimilarityScoring(input: dir + "/pairs.json", output: dir + "/scored.json", batchSize: 2, models: "m")
        var called = false
        #expect { _ = try stage.run { called = true; return $0.map(Self.fake) } } throws: {
            "\($0)".contains("pairs.json: record 2: field 'images': image \(dir)/img/2b.png does not exist")
        }
        #expect(!called && !FileManager.default.fileExists(atPath: stage.progressPath))
        try #"[{"images": ["a.png"]}]"#.write(toFile: dir + "/one.json", atomically: true, encoding: .utf8)
        let one = SimilarityScoring(input: dir + "/one.json", output: dir + "/o.json", batchSize: 2, models: "m")
        #expect { _ = try one.run { $0.map(Self.fake) } } throws: { "\($0)".contains("record 0: field 'images': must be an array of two strings") }
        // A scorer that loses results is caught, not written.
        let wrong = SimilarityScoring(input: dir + "/pairs.json", output: dir + "/w.json", batchSize: 2, models: "m")
        try Data([1]).write(to: URL(fileURLWithPath: dir + "/img/2b.png"))
        #expect { _ = try wrong.run { Array($0.map(Self.fake).dropLast()) } } throws: { "\($0)".contains("returned 1 results for 2 pairs") }
        #expect { _ = try wrong.run { $0.map { _ in PairSimilarity(siglip: .nan, dinov2: 0) } } } throws: { "\($0)".contains("is not a number") }
    }
}
