/// A value of Thrift's compact protocol, decoded without a schema (parquet's footer and page
/// headers are small, so a generic tree is simpler than generated code).
enum ThriftValue {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case binary([UInt8])
    case list([ThriftValue])
    case map([(ThriftValue, ThriftValue)])
    case structure([Int16: ThriftValue])

    var int: Int64? { if case let .int(v) = self { return v }; return nil }
    var bool: Bool? { if case let .bool(v) = self { return v }; return nil }
    var binary: [UInt8]? { if case let .binary(v) = self { return v }; return nil }
    var string: String? { binary.map { String(decoding: $0, as: UTF8.self) } }
    var list: [ThriftValue]? { if case let .list(v) = self { return v }; return nil }
    var fields: [Int16: ThriftValue]? { if case let .structure(v) = self { return v }; return nil }
}

/// Reads Thrift compact-protocol structs from bytes.
struct ThriftReader {
    let bytes: [UInt8]
    var position: Int
    var depth = 0

    struct Malformed: Error { var reason: String }

    init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw Malformed(reason: "truncated Thrift data") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw Malformed(reason: "varint too long") }
        }
    }

    mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    /// A struct: fields until STOP.
    mutating func readStruct() throws -> [Int16: ThriftValue] {
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { throw Malformed(reason: "Thrift structs nested too deeply") }
        var fields: [Int16: ThriftValue] = [:]
        var lastID: Int16 = 0
        while true {
            let header = try byte()
            if header == 0 { return fields }
            let type = header & 0x0F
            let delta = Int16(header >> 4)
            let id: Int16
            if delta == 0 {
                let raw = try zigzag()
                guard let v = Int16(exactly: raw) else { throw Malformed(reason: "field id out of range") }
                id = v
            } else {
                id = lastID &+ delta
            }
            lastID = id
            switch type {
            case 1: fields[id] = .bool(true)
            case 2: fields[id] = .bool(false)
            default: fields[id] = try value(ofType: type)
            }
        }
    }

    mutating func value(ofType type: UInt8) throws -> ThriftValue {
        switch type {
        case 1, 2: return .bool(try byte() == 1)  // in lists: one byte per bool
        case 3: return .int(Int64(Int8(bitPattern: try byte())))
        case 4, 5, 6: return .int(try zigzag())
        case 7:
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(try byte()) << (8 * UInt64(i)) }
            return .double(Double(bitPattern: bits))
        case 8:
            let n = Int(try varint())
            guard n >= 0, n <= bytes.count - position else { throw Malformed(reason: "binary field runs past the end") }
            defer { position += n }
            return .binary(Array(bytes[position..<position + n]))
        case 9, 10:
            let header = try byte()
            var count = Int(header >> 4)
            if count == 15 { count = Int(try varint()) }
            guard count <= bytes.count - position else { throw Malformed(reason: "list longer than the data") }
            let elementType = header & 0x0F
            var items: [ThriftValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try value(ofType: elementType)) }
            return .list(items)
        case 11:
            let count = Int(try varint())
            guard count <= bytes.count - position else { throw Malformed(reason: "map longer than the data") }
            if count == 0 { return .map([]) }
            let types = try byte()
            var pairs: [(ThriftValue, ThriftValue)] = []
            for _ in 0..<count { pairs.append((try value(ofType: types >> 4), try value(ofType: types & 0x0F))) }
            return .map(pairs)
        case 12: return .structure(try readStruct())
        default: throw Malformed(reason: "unknown Thrift type \(type)")
        }
    }
}
