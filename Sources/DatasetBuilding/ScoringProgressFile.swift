#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Tokenizers

/// The resumable part of `svco data similarity`: `<out>.partial`, a JSON-lines file whose first
/// line says which input and models it belongs to and whose other lines each hold one record's
/// scores, appended and synced after every batch. A rerun with the same input and models reads it
/// and scores only the rest; when all are done the output is written whole and this file removed.
///
/// A crash can leave a torn last line; it is cut off on reopening (that batch is scored again).
/// Anything else unreadable, or a first line for another input or other models, is an error
/// naming the file (never silently mixed or discarded).
final class ScoringProgressFile {
    let path: String
    private var fd: Int32

    /// The first line: what the scores belong to.
    struct Header: Equatable {
        var inputHash: String
        var records: Int
        var models: String

        var json: String {
            JSONText.line([("svco", .string("similarity-progress")), ("version", .integer(1)),
                           ("input_fnv1a64", .string(inputHash)), ("records", .integer(records)), ("models", .string(models))])
        }

        init(inputHash: String, records: Int, models: String) {
            self.inputHash = inputHash
            self.records = records
            self.models = models
        }

        init?(_ value: JSONValue) {
            guard value["svco"] == .string("similarity-progress"), value["version"] == .integer(1),
                  case let .string(hash)? = value["input_fnv1a64"], let records = value["records"]?.integerValue,
                  case let .string(models)? = value["models"] else { return nil }
            self.init(inputHash: hash, records: records, models: models)
        }
    }

    /// Opens (or creates) the file for `header`; returns it with the scores it already holds.
    static func resume(path: String, header: Header) throws -> (ScoringProgressFile, [Int: PairSimilarity]) {
        func fail(_ reason: String) -> DatasetBuildingError { DatasetBuildingError(file: path, reason: reason) }
        let existing = try readAll(path)
        var scores: [Int: PairSimilarity] = [:]
        var keep = 0  // bytes of whole, valid lines
        if let existing, !existing.isEmpty {
            var lines: [(start: Int, end: Int)] = []
            var start = 0
            for (i, b) in existing.enumerated() where b == 0x0A {
                lines.append((start, i))
                start = i + 1
            }
            guard let first = lines.first else {
                // Not even the header made it to disk: start over.
                return (try create(path: path, header: header, truncating: true), [:])
            }
            guard let parsed = try? JSONValue.parse(Array(existing[first.start..<first.end])), let found = Header(parsed) else {
                throw fail("not an svco similarity progress file (delete it to start over)")
            }
            guard found == header else {
                throw fail("belongs to another run (input or models differ: \(found.models) vs \(header.models)); "
                           + "delete it to start over, or rerun with the same --data, --siglip and --dinov2")
            }
            keep = first.end + 1
            for (n, line) in lines.dropFirst().enumerated() {
                let bytes = Array(existing[line.start..<line.end])
                guard let value = try? JSONValue.parse(bytes), let index = value["record"]?.integerValue,
                      (0..<header.records).contains(index),
                      let s = value[PairFields.siglipSimilarity]?.numberValue, let d = value[PairFields.dinov2Similarity]?.numberValue
                else {
                    throw fail("line \(n + 2) is not a score line (delete the file to start over)")
                }
                scores[index] = PairSimilarity(siglip: s, dinov2: d)
                keep = line.end + 1
            }
        }
        let file = try create(path: path, header: existing == nil || existing?.isEmpty == true ? header : nil, truncating: false)
        if let existing, keep < existing.count {
            guard ftruncate(file.fd, off_t(keep)) == 0 else { throw fail("cannot cut off its torn last line: \(errorText())") }
        }
        return (file, scores)
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Opens for appending; writes `header` first when given.
    private static func create(path: String, header: Header?, truncating: Bool) throws -> ScoringProgressFile {
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncating ? O_TRUNC : 0)
        let fd = systemOpen(path, flags, 0o644)
        guard fd >= 0 else { throw DatasetBuildingError(file: path, reason: "cannot open for writing: \(errorText())") }
        let file = ScoringProgressFile(path: path, fd: fd)
        if let header { try file.append(line: header.json) }
        return file
    }

    /// Appends one line per score and syncs, so a crash loses at most the batch being written.
    func append(_ scores: [(Int, PairSimilarity)]) throws {
        var text = ""
        for (index, s) in scores {
            text += JSONText.line([("record", .integer(index)), (PairFields.siglipSimilarity, .number(s.siglip)),
                                   (PairFields.dinov2Similarity, .number(s.dinov2))]) + "\n"
        }
        try appendText(text)
    }

    private func append(line: String) throws { try appendText(line + "\n") }

    private func appendText(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DatasetBuildingError(file: path, reason: "cannot append: \(Self.errorText())")
            }
            offset += n
        }
        guard fsync(fd) == 0 else { throw DatasetBuildingError(file: path, reason: "cannot sync: \(Self.errorText())") }
    }

    /// Closes and deletes the file (the output now holds everything).
    func remove() {
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(path)
    }

    /// The file's bytes, or nil when it does not exist.
    private static func readAll(_ path: String) throws -> [UInt8]? {
        let fd = systemOpen(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw DatasetBuildingError(file: path, reason: "cannot read: \(errorText())")
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DatasetBuildingError(file: path, reason: "cannot read: \(errorText())")
            }
            if n == 0 { return out }
            out += buffer[0..<n]
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

// The C functions under names that do not collide with this file's methods.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 { open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
