import Foundation
import Testing
@testable import Datasets

/// Reading dataset files and images: readable errors, symbolic links in the image-root check, and the
/// pre-flight image check.
@Suite struct DatasetFilesTests {
    static func folder(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "svco-datasets-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func record(_ chosen: String, _ rejected: String) -> String {
        #"{"instruction_prompt": "Q?", "chosen_images": ["\#(chosen)"], "rejected_images": ["\#(rejected)"], "chosen_response": "A", "rejected_response": "B"}"#
    }

    @Test func missingFilesAndFoldersAreOneReadableLine() throws {
        let dir = try Self.folder("read")
        #expect(throws: FileReadError(path: dir + "/none.json", reason: "no such file")) { try FileRead.contents(of: dir + "/none.json") }
        #expect(throws: FileReadError(path: dir, reason: "is a folder, not a file")) { try FileRead.contents(of: dir) }
        #expect { try MVCDataset(file: dir) } throws: { "\($0)" == "\(dir): is a folder, not a file" }
        #expect { try MVCDataset(file: dir + "/x/none.json") } throws: { "\($0)" == "\(dir)/x/none.json: no such file" }
        try "[]".write(toFile: dir + "/f", atomically: true, encoding: .utf8)
        #expect { try MVCDataset(file: dir + "/f/none.json") } throws: { "\($0)" == "\(dir)/f/none.json: a part of the path is not a folder" }
    }

    /// A link inside the image root that points outside it is refused like a `..` path: the check
    /// resolves links (of the image, and of any folder above it) before comparing.
    @Test func symbolicLinksOutOfTheImageRootAreRefused() throws {
        let root = try Self.folder("root"), outside = try Self.folder("outside")
        let fm = FileManager.default
        try Data([1]).write(to: URL(fileURLWithPath: outside + "/secret.png"))
        try fm.createDirectory(atPath: root + "/images", withIntermediateDirectories: true)
        try Data([1]).write(to: URL(fileURLWithPath: root + "/images/a.png"))
        try fm.createSymbolicLink(atPath: root + "/images/link.png", withDestinationPath: outside + "/secret.png")
        try fm.createSymbolicLink(atPath: root + "/elsewhere", withDestinationPath: outside)
        try fm.createSymbolicLink(atPath: root + "/images/alias.png", withDestinationPath: root + "/images/a.png")
        func dataset(_ chosen: String) throws -> MVCDataset {
            let file = root + "/mvc.json"
            try "[\(Self.record(chosen, "images/a.png"))]".write(toFile: file, atomically: true, encoding: .utf8)
            return try MVCDataset(file: file)
        }
        let real = URL(fileURLWithPath: outside).resolvingSymlinksInPath().path + "/secret.png"
        #expect { try dataset("images/link.png") } throws: {
            "\($0)" == "\(root)/mvc.json: record 0: key 'chosen_images': image path 'images/link.png' is a symbolic link (or lies under one) to \(real), "
                + "outside the image root \(root) (pass --allow-outside-root to permit)"
        }
        #expect { try dataset("elsewhere/secret.png") } throws: { "\($0)".contains("image path 'elsewhere/secret.png' is a symbolic link") }
        // A link that stays inside the root, and a path that does not exist yet, are fine.
        #expect(try dataset("images/alias.png").records[0].chosenImages == [root + "/images/alias.png"])
        #expect(try dataset("images/new/b.png").records[0].chosenImages == [root + "/images/new/b.png"])
        // --allow-outside-root permits links out too.
        try "[\(Self.record("images/link.png", "images/a.png"))]".write(toFile: root + "/mvc.json", atomically: true, encoding: .utf8)
        #expect(try MVCDataset(file: root + "/mvc.json", allowOutsideRoot: true).records[0].chosenImages == [root + "/images/link.png"])
    }

    /// Every distinct image is decoded once; the bad ones come back in path order with the records
    /// that name them.
    @Test func preflightListsEveryBadImageWithItsRecords() throws {
        let dir = try Self.folder("preflight")
        // A real PNG of the demo set, and its first 40 bytes.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let images = try FileManager.default.contentsOfDirectory(atPath: root + "/demo/mvc/images").sorted()
        let png = try Data(contentsOf: URL(fileURLWithPath: root + "/demo/mvc/images/" + images[0]))
        try png.write(to: URL(fileURLWithPath: dir + "/good.png"))
        try png.prefix(40).write(to: URL(fileURLWithPath: dir + "/truncated.png"))
        try Data("GIF89a".utf8).write(to: URL(fileURLWithPath: dir + "/anim.gif"))
        let records = [("good.png", "truncated.png"), ("missing.png", "good.png"), ("anim.gif", "truncated.png"), ("good.png", "good.png")].map {
            MVCRecord(instructionPrompt: "Q", chosenImages: [dir + "/" + $0.0], rejectedImages: [dir + "/" + $0.1], chosenResponse: "A", rejectedResponse: "B")
        }
        let bad = DatasetPreflight.badImages(records)
        #expect(bad.map(\.path) == [dir + "/anim.gif", dir + "/missing.png", dir + "/truncated.png"])
        #expect(bad.map(\.records) == [[2], [1], [0, 2]])
        #expect(bad[1].message == "\(dir)/missing.png: no such file")
        #expect(bad[0].message.contains("GIF") && bad[2].message.hasPrefix("\(dir)/truncated.png: invalid PNG data"), "\(bad)")
        #expect(DatasetPreflight.describe(bad, limit: 2).last == "… and 1 more")
    }
}
