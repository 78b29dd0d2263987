import Foundation
import Testing
@testable import Training

@Suite struct TensorBoardTests {
    @Test func crc32cKnownValues() {
        // The standard check value of CRC-32C, and RFC 3720's 32 zero bytes.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }

    /// Reads the records back with their checksums and decodes the scalar values by hand.
    @Test func eventFileRecordsAreFramedAndHoldTheScalars() throws {
        let dir = NSTemporaryDirectory() + "svco-tb-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let writer = try TensorBoardWriter(directory: dir)
        writer.write(step: 7, scalars: ["train_loss": 2.5, "nan": .nan])
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.path)))
        var records: [[UInt8]] = []
        var i = 0
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
        while i < bytes.count {
            let length = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i + $1]) << (8 * UInt64($1)) })
            #expect(u32(i + 8) == CRC32C.masked(Array(bytes[i..<(i + 8)])))
            let data = Array(bytes[(i + 12)..<(i + 12 + length)])
            #expect(u32(i + 12 + length) == CRC32C.masked(data))
            records.append(data)
            i += 16 + length
        }
        #expect(records.count == 2)
        #expect(String(decoding: records[0], as: UTF8.self).contains("brain.Event:2"))
        let event = records[1]
        // step = 7 as field 2 varint; the summary value carries the tag and 2.5 as a little-endian float.
        #expect(event[0] == 0x09 && event[9] == 0x10 && event[10] == 7)  // after the 9-byte wall_time
        #expect(String(decoding: event, as: UTF8.self).contains("train_loss") && !String(decoding: event, as: UTF8.self).contains("nan"))
        let floatBytes = Array(withUnsafeBytes(of: Float(2.5).bitPattern.littleEndian) { Array($0) })
        #expect(event.indices.contains { event.count >= $0 + 5 && event[$0] == 0x15 && Array(event[($0 + 1)..<($0 + 5)]) == floatBytes })
    }
}
