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
        try writer.write(step: 7, scalars: ["train_loss": 2.5, "nan": .nan])
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

    /// HF Trainer's TensorBoard callback renames keys with transformers' `rewrite_logs`: `eval_X` →
    /// `eval/X`, `test_X` → `test/X`, everything else `train/X`; the step is the event's, not a scalar.
    @Test func tagsAreHFTrainersRewrittenKeys() {
        let tags = TensorBoardWriter.hfTags([
            "step": 3, "loss": 1.5, "epoch": 0.5, "train_reward_acc/img_win_vs_no_img_reward_accuracies": 0.75,
            "eval_loss": 2, "eval_pi_logratios/pi_logratios_no_img_vs_img_win_distance": 0.25, "test_x": 1,
        ])
        #expect(tags == ["train/loss": 1.5, "train/epoch": 0.5, "train/train_reward_acc/img_win_vs_no_img_reward_accuracies": 0.75,
                         "eval/loss": 2, "eval/pi_logratios/pi_logratios_no_img_vs_img_win_distance": 0.25, "test/x": 1])
    }

    /// The scalar tags of every event in a TensorBoard file (a test-side protobuf reader).
    static func tags(inEventFile path: String) throws -> [Set<String>] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var events: [Set<String>] = []
        var i = 0
        while i + 12 <= bytes.count {
            let length = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i + $1]) << (8 * UInt64($1)) })
            let data = Array(bytes[(i + 12)..<(i + 12 + length)])
            events.append(Set(strings(inField: 1, of: summary(data))))
            i += 16 + length
        }
        return events
    }

    /// The summary (field 5) of an Event, or nothing.
    static func summary(_ event: [UInt8]) -> [[UInt8]] { messages(inField: 5, of: event) }

    static func strings(inField field: Int, of values: [[UInt8]]) -> [String] {
        values.flatMap { summary in messages(inField: 1, of: summary) }.compactMap { value in
            messages(inField: field, of: value).first.map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Length-delimited fields numbered `field` of a protobuf message (other wire types skipped).
    static func messages(inField field: Int, of bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        func varint() -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { break }
                shift += 7
            }
            return v
        }
        while i < bytes.count {
            let key = varint()
            switch key & 7 {
            case 0: _ = varint()
            case 1: i += 8
            case 5: i += 4
            case 2:
                let n = Int(varint())
                if Int(key >> 3) == field { out.append(Array(bytes[i..<min(bytes.count, i + n)])) }
                i += n
            default: return out
            }
        }
        return out
    }
}

