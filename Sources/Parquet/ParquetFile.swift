import CSnappy
#if canImport(Glibc)
import Glibc
#endif

/// A problem with a parquet file, naming the file.
public struct ParquetError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let reason: String
    public init(file: String, reason: String) { self.file = file; self.reason = reason }
    public var description: String { "\(file): \(reason)" }
}

/// A reader for the parquet files svco fetches — those `datasets`/pyarrow write for a Hub dataset
/// such as RealWorldQA — limited to what they use: flat or struct columns (no repeated fields),
/// BYTE_ARRAY leaves (strings, binary, an Image feature's `bytes`), PLAIN and dictionary encodings,
/// data pages v1 and v2, uncompressed or Snappy. No parquet library is packaged for Debian 12 or
/// in this machine's Swift package list; anything outside that subset is refused by name.
public final class ParquetFile {
    public let path: String
    public let rowCount: Int
    /// Leaf columns as dotted paths (`image.bytes`).
    public let columnPaths: [String]
    private let fd: Int32
    private let leaves: [Leaf]
    private let rowGroups: [[Int16: ThriftValue]]

    struct Leaf {
        var path: [String]
        var physicalType: Int64
        var maxDefinition: Int
        var maxRepetition: Int
    }

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError(file: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        do {
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw ParquetError(file: path, reason: "cannot stat") }
            let size = Int(st.st_size)
            guard size >= 12 else { throw ParquetError(file: path, reason: "too short for a parquet file") }
            let tail = try Self.read(fd, offset: size - 8, count: 8, file: path)
            guard Array(tail[4..<8]) == Array("PAR1".utf8) else { throw ParquetError(file: path, reason: "no PAR1 footer: not a parquet file") }
            let footerLength = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
            guard footerLength > 0, footerLength <= size - 12 else { throw ParquetError(file: path, reason: "footer length \(footerLength) is out of range") }
            let footer = try Self.read(fd, offset: size - 8 - footerLength, count: footerLength, file: path)
            var reader = ThriftReader(footer)
            let meta: [Int16: ThriftValue]
            do { meta = try reader.readStruct() } catch let e as ThriftReader.Malformed {
                throw ParquetError(file: path, reason: "malformed footer: \(e.reason)")
            }
            guard let schema = meta[2]?.list?.compactMap(\.fields), let rows = meta[3]?.int else {
                throw ParquetError(file: path, reason: "footer lacks the schema or the row count")
            }
            rowCount = Int(rows)
            rowGroups = meta[4]?.list?.compactMap(\.fields) ?? []
            leaves = try Self.leaves(schema, file: path)
            columnPaths = leaves.map { $0.path.joined(separator: ".") }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Walks the flattened schema (depth-first, `num_children`) into leaf columns with their levels.
    static func leaves(_ schema: [[Int16: ThriftValue]], file: String) throws -> [Leaf] {
        var out: [Leaf] = []
        var index = 1
        func walk(prefix: [String], definition: Int, repetition: Int, count: Int) throws {
            for _ in 0..<count {
                guard index < schema.count else { throw ParquetError(file: file, reason: "schema ends early") }
                let element = schema[index]
                index += 1
                let name = element[4]?.string ?? "?"
                let repetitionType = element[3]?.int ?? 0  // 0 required, 1 optional, 2 repeated
                let d = definition + (repetitionType == 0 ? 0 : 1)
                let r = repetition + (repetitionType == 2 ? 1 : 0)
                if let children = element[5]?.int, children > 0 {
                    try walk(prefix: prefix + [name], definition: d, repetition: r, count: Int(children))
                } else {
                    out.append(Leaf(path: prefix + [name], physicalType: element[1]?.int ?? -1, maxDefinition: d, maxRepetition: r))
                }
            }
        }
        guard let root = schema.first, let children = root[5]?.int else { throw ParquetError(file: file, reason: "schema has no root") }
        try walk(prefix: [], definition: 0, repetition: 0, count: Int(children))
        return out
    }

    /// Calls `body(row, value)` for every row of a BYTE_ARRAY column (nil where the value is null),
    /// one row group in memory at a time.
    public func forEachValue(column: String, _ body: (Int, [UInt8]?) throws -> Void) throws {
        guard let leafIndex = columnPaths.firstIndex(of: column) else {
            throw ParquetError(file: path, reason: "no column '\(column)' (columns: \(columnPaths.joined(separator: ", ")))")
        }
        let leaf = leaves[leafIndex]
        guard leaf.physicalType == 6 else { throw ParquetError(file: path, reason: "column '\(column)' is not BYTE_ARRAY") }
        guard leaf.maxRepetition == 0 else { throw ParquetError(file: path, reason: "column '\(column)' is repeated (lists are not supported)") }
        var row = 0
        for (g, group) in rowGroups.enumerated() {
            guard let chunks = group[1]?.list?.compactMap(\.fields), leafIndex < chunks.count,
                  let meta = chunks[leafIndex][3]?.fields else {
                throw ParquetError(file: path, reason: "row group \(g) has no metadata for column '\(column)'")
            }
            let values = try ColumnChunkReader(file: path, leaf: leaf, meta: meta).read { offset, count in
                try Self.read(fd, offset: offset, count: count, file: path)
            }
            for v in values {
                try body(row, v)
                row += 1
            }
        }
        guard row == rowCount else { throw ParquetError(file: path, reason: "column '\(column)' has \(row) values for \(rowCount) rows") }
    }

    static func read(_ fd: Int32, offset: Int, count: Int, file: String) throws -> [UInt8] {
        guard offset >= 0, count >= 0 else { throw ParquetError(file: file, reason: "negative offset or length") }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { buffer in
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 { if errno == EINTR { continue }; throw ParquetError(file: file, reason: "read failed: \(String(cString: strerror(errno)))") }
                if n == 0 { throw ParquetError(file: file, reason: "file ends before byte \(offset + count)") }
                done += n
            }
        }
        return out
    }
}

/// Decodes the pages of one column chunk.
struct ColumnChunkReader {
    let file: String
    let leaf: ParquetFile.Leaf
    let meta: [Int16: ThriftValue]

    func fail(_ reason: String) -> ParquetError { ParquetError(file: file, reason: "column '\(leaf.path.joined(separator: "."))': \(reason)") }

    func read(_ load: (Int, Int) throws -> [UInt8]) throws -> [[UInt8]?] {
        guard let codec = meta[4]?.int, let valueCount = meta[5]?.int, let size = meta[7]?.int, let dataOffset = meta[9]?.int else {
            throw fail("column metadata lacks codec, value count, size or offset")
        }
        guard codec == 0 || codec == 1 else {
            let names: [Int64: String] = [2: "GZIP", 3: "LZO", 4: "BROTLI", 5: "LZ4", 6: "ZSTD", 7: "LZ4_RAW"]
            throw fail("compression \(names[codec] ?? "\(codec)") is not supported (only uncompressed and SNAPPY)")
        }
        var start = dataOffset
        if let dictionaryOffset = meta[11]?.int, dictionaryOffset > 0, dictionaryOffset < start { start = dictionaryOffset }
        let bytes = try load(Int(start), Int(size))
        var position = 0
        var dictionary: [[UInt8]] = []
        var out: [[UInt8]?] = []
        out.reserveCapacity(Int(valueCount))
        while out.count < Int(valueCount) {
            var reader = ThriftReader(bytes, position: position)
            let header: [Int16: ThriftValue]
            do { header = try reader.readStruct() } catch let e as ThriftReader.Malformed { throw fail("malformed page header: \(e.reason)") }
            guard let type = header[1]?.int, let uncompressed = header[2]?.int, let compressed = header[3]?.int,
                  compressed >= 0, reader.position + Int(compressed) <= bytes.count else {
                throw fail("page header without sizes, or a page running past the chunk")
            }
            let body = Array(bytes[reader.position..<reader.position + Int(compressed)])
            position = reader.position + Int(compressed)
            switch type {
            case 2:  // dictionary page: PLAIN values
                guard let h = header[7]?.fields, let n = h[1]?.int else { throw fail("dictionary page without its header") }
                let plain = try decompress(body, codec: codec, size: Int(uncompressed))
                var p = 0
                dictionary = try plainByteArrays(plain, count: Int(n), position: &p)
            case 0:
                guard let h = header[5]?.fields, let n = h[1]?.int, let encoding = h[2]?.int else { throw fail("data page without its header") }
                let page = try decompress(body, codec: codec, size: Int(uncompressed))
                var p = 0
                let levels = try definitionLevels(page, count: Int(n), position: &p, lengthPrefixed: true)
                try appendValues(page, from: p, levels: levels, encoding: encoding, dictionary: dictionary, to: &out)
            case 3:
                guard let h = header[8]?.fields, let n = h[1]?.int, let encoding = h[4]?.int,
                      let defLength = h[5]?.int, let repLength = h[6]?.int else { throw fail("data page v2 without its header") }
                let levelBytes = Int(defLength + repLength)
                guard levelBytes <= body.count else { throw fail("data page v2 levels longer than the page") }
                var p = Int(repLength)
                let levels = try definitionLevels(Array(body[0..<levelBytes]), count: Int(n), position: &p, lengthPrefixed: false)
                let isCompressed = h[7]?.bool ?? true
                let values = Array(body[levelBytes...])
                let page = isCompressed ? try decompress(values, codec: codec, size: Int(uncompressed) - levelBytes) : values
                try appendValues(page, from: 0, levels: levels, encoding: encoding, dictionary: dictionary, to: &out)
            default:
                continue  // index pages
            }
        }
        return out
    }

    func decompress(_ data: [UInt8], codec: Int64, size: Int) throws -> [UInt8] {
        if codec == 0 { return data }
        var length = 0
        let ok = data.withUnsafeBufferPointer { src in
            src.withMemoryRebound(to: CChar.self) { snappy_uncompressed_length($0.baseAddress, src.count, &length) }
        }
        guard ok == SNAPPY_OK, length == size else { throw fail("Snappy page header is corrupt") }
        var out = [UInt8](repeating: 0, count: length)
        var outLength = length
        let status = data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                src.withMemoryRebound(to: CChar.self) { s in
                    dst.withMemoryRebound(to: CChar.self) { d in snappy_uncompress(s.baseAddress, s.count, d.baseAddress, &outLength) }
                }
            }
        }
        guard status == SNAPPY_OK, outLength == length else { throw fail("Snappy data is corrupt") }
        return out
    }

    /// Definition levels for `count` values (all `maxDefinition` when the column cannot be null).
    func definitionLevels(_ page: [UInt8], count: Int, position: inout Int, lengthPrefixed: Bool) throws -> [Int] {
        if leaf.maxDefinition == 0 { return [Int](repeating: 0, count: count) }
        var end = page.count
        if lengthPrefixed {
            guard position + 4 <= page.count else { throw fail("page too short for its definition levels") }
            let n = Int(UInt32(page[position]) | UInt32(page[position + 1]) << 8 | UInt32(page[position + 2]) << 16 | UInt32(page[position + 3]) << 24)
            position += 4
            guard position + n <= page.count else { throw fail("definition levels run past the page") }
            end = position + n
        }
        var decoder = HybridDecoder(bytes: page, position: position, end: end, bitWidth: bitWidth(leaf.maxDefinition))
        let levels = try decoder.decode(count: count).map { Int($0) }
        if lengthPrefixed { position = end }
        guard levels.allSatisfy({ $0 <= leaf.maxDefinition }) else { throw fail("definition level above the maximum") }
        return levels
    }

    func appendValues(_ page: [UInt8], from start: Int, levels: [Int], encoding: Int64, dictionary: [[UInt8]],
                      to out: inout [[UInt8]?]) throws {
        let present = levels.filter { $0 == leaf.maxDefinition }.count
        var values: [[UInt8]]
        switch encoding {
        case 0:  // PLAIN
            var p = start
            values = try plainByteArrays(page, count: present, position: &p)
        case 2, 8:  // PLAIN_DICTIONARY, RLE_DICTIONARY
            guard start < page.count || present == 0 else { throw fail("dictionary-encoded page without indices") }
            if present == 0 { values = []; break }
            let width = Int(page[start])
            guard width <= 32 else { throw fail("dictionary index width \(width)") }
            var decoder = HybridDecoder(bytes: page, position: start + 1, end: page.count, bitWidth: width)
            values = try decoder.decode(count: present).map { index in
                guard Int(index) < dictionary.count else { throw fail("dictionary index \(index) out of range") }
                return dictionary[Int(index)]
            }
        default:
            throw fail("encoding \(encoding) is not supported (only PLAIN and dictionary)")
        }
        var next = 0
        for level in levels {
            if level == leaf.maxDefinition { out.append(values[next]); next += 1 } else { out.append(nil) }
        }
    }

    func plainByteArrays(_ data: [UInt8], count: Int, position: inout Int) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            guard position + 4 <= data.count else { throw fail("PLAIN values end early") }
            let n = Int(UInt32(data[position]) | UInt32(data[position + 1]) << 8 | UInt32(data[position + 2]) << 16 | UInt32(data[position + 3]) << 24)
            position += 4
            guard n <= data.count - position else { throw fail("a PLAIN value runs past the page") }
            out.append(Array(data[position..<position + n]))
            position += n
        }
        return out
    }

    func bitWidth(_ maxValue: Int) -> Int {
        var w = 0
        while (1 << w) <= maxValue { w += 1 }
        return w
    }
}

/// Parquet's RLE / bit-packed hybrid encoding (levels and dictionary indices).
struct HybridDecoder {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    let bitWidth: Int

    struct Malformed: Error {}

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard position < end else { throw ParquetError(file: "", reason: "truncated run header") }
            let b = bytes[position]
            position += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw ParquetError(file: "", reason: "run header too long") }
        }
    }

    mutating func decode(count: Int) throws -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(count)
        let byteWidth = (bitWidth + 7) / 8
        while out.count < count {
            let header = try varint()
            if header & 1 == 1 {
                let groups = Int(header >> 1)
                let totalBits = groups * 8 * bitWidth
                guard position + (totalBits + 7) / 8 <= end else { throw ParquetError(file: "", reason: "bit-packed run past the end") }
                var bit = 0
                for _ in 0..<(groups * 8) {
                    var v: UInt32 = 0
                    for b in 0..<bitWidth {
                        let byte = bytes[position + (bit + b) / 8]
                        if (byte >> ((bit + b) % 8)) & 1 == 1 { v |= 1 << b }
                    }
                    bit += bitWidth
                    if out.count < count { out.append(v) }
                }
                position += (totalBits + 7) / 8
            } else {
                let run = Int(header >> 1)
                guard position + byteWidth <= end else { throw ParquetError(file: "", reason: "RLE run past the end") }
                var v: UInt32 = 0
                for i in 0..<byteWidth { v |= UInt32(bytes[position + i]) << (8 * i) }
                position += byteWidth
                out += repeatElement(v, count: min(run, count - out.count))
                if run == 0 { throw ParquetError(file: "", reason: "empty RLE run") }
            }
        }
        return out
    }
}
