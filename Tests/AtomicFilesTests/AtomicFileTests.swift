import AtomicFiles
import Foundation
import Testing

@Suite struct AtomicFileTests {
    static func folder() throws -> String {
        let dir = NSTemporaryDirectory() + "svco-atomic-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesTheWholeFileInPieces() throws {
        let path = try Self.folder() + "/out.bin"
        try AtomicFile.write(to: path) { file in
            try file.write([1, 2, 3])
            try ([4, 5] as [UInt8]).withUnsafeBytes { try file.write($0) }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3, 4, 5]))
        try AtomicFile.write(Array("replaced".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "replaced")
    }

    @Test func aFailureKeepsTheOldFileAndLeavesNoTemporary() throws {
        let dir = try Self.folder()
        let path = dir + "/keep.txt"
        try AtomicFile.write(Array("old".utf8), to: path)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try AtomicFile.write(to: path) { file in
                try file.write(Array("half".utf8))
                throw Boom()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["keep.txt"])
    }

    @Test func anUnwritablePlaceIsAnErrorNamingTheFile() {
        let path = "/nonexistent-svco-dir/x.json"
        #expect {
            try AtomicFile.write(Array("x".utf8), to: path)
        } throws: { error in
            guard let e = error as? FileWriteError else { return false }
            return e.path == path && e.localizedDescription.hasPrefix(path + ": cannot create")
        }
    }
}
