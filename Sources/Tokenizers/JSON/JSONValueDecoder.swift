#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DecodingDiagnostics

/// Decodes `Decodable` types from an already parsed `JSONValue`, so the pipeline configs stay plain
/// `Codable` structs while the large vocabulary objects are read from the same parse without going
/// through a `[String: _]` (see `JSONValue`).
struct JSONValueDecoder {
    /// Decodes `type` from `value`; `file` names the source in the error.
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, file: String,
                                     path: [String] = []) throws -> T {
        do {
            return try T(from: ValueDecoder(value: value, codingPath: path.map(PathKey.init)))
        } catch let error as DecodingError {
            throw TokenizerError(decoding: error, file: file)
        }
    }
}

extension TokenizerError {
    /// Turns a `DecodingError` into a message that names the file and the field path; an error a
    /// pipeline stage threw itself is kept as it is.
    init(decoding error: DecodingError, file: String) {
        let failure = DecodingFailure(error)
        if let inner = failure.underlyingError as? TokenizerError {
            self = inner
            return
        }
        switch failure.kind {
        case .missing, .null: self = .missingField(file: file, field: failure.field)
        case .wrongType, .invalid: self = .invalidField(file: file, field: failure.field, reason: failure.detail)
        }
    }
}

/// A coding key made from a path component.
struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string; intValue = nil }
    init?(stringValue: String) { self.stringValue = stringValue; intValue = nil }
    /// An array position, named as JSONDecoder names them.
    init?(intValue: Int) { stringValue = "Index \(intValue)"; self.intValue = intValue }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .object(members) = value else {
            throw DecodingError.typeMismatch(
                [String: Any].self,
                .init(codingPath: codingPath, debugDescription: "expected an object, found \(value.kindName)"))
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case let .array(elements) = value else {
            throw DecodingError.typeMismatch(
                [Any].self,
                .init(codingPath: codingPath, debugDescription: "expected an array, found \(value.kindName)"))
        }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        SingleContainer(value: value, codingPath: codingPath)
    }
}

/// Scalar conversions shared by the three container kinds.
private func unbox<T: Decodable>(_ value: JSONValue, as type: T.Type, path: [CodingKey]) throws -> T {
    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(T.self, .init(codingPath: path,
                                    debugDescription: "expected \(expected), found \(value.kindName)"))
    }
    if type == JSONValue.self, let v = value as? T { return v }
    switch type {
    case is Bool.Type:
        guard case let .bool(b) = value, let r = b as? T else { throw mismatch("a boolean") }
        return r
    case is String.Type:
        guard case let .string(s) = value, let r = s as? T else { throw mismatch("a string") }
        return r
    case is Double.Type:
        guard let n = value.numberValue, let r = n as? T else { throw mismatch("a number") }
        return r
    case is Float.Type:
        guard let n = value.numberValue, let r = Float(n) as? T else { throw mismatch("a number") }
        return r
    case is Int.Type:
        guard let n = value.integerValue, let r = n as? T else { throw mismatch("an integer") }
        return r
    case is UInt32.Type:
        guard let n = value.integerValue, let u = UInt32(exactly: n), let r = u as? T else { throw mismatch("an unsigned integer") }
        return r
    default:
        return try T(from: ValueDecoder(value: value, codingPath: path))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [(String, JSONValue)]
    let codingPath: [CodingKey]

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.0) } }

    func find(_ key: Key) -> JSONValue? {
        members.last(where: { $0.0 == key.stringValue })?.1
    }

    func contains(_ key: Key) -> Bool { find(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let v = find(key) else { return true }
        return v == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let v = find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        if v == .null, type != JSONValue.self {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: codingPath + [key], debugDescription: "null"))
        }
        return try unbox(v, as: type, path: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: find(key) ?? .null, codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try ValueDecoder(value: find(key) ?? .null, codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { ValueDecoder(value: .object(members), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> Decoder {
        ValueDecoder(value: find(key) ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> (JSONValue, [CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                JSONValue.self, .init(codingPath: codingPath, debugDescription: "array too short"))
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], codingPath + [PathKey(intValue: currentIndex) ?? PathKey("?")])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, path) = try next()
        return try unbox(v, as: type, path: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey> {
        let (v, path) = try next()
        return try ValueDecoder(value: v, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let (v, path) = try next()
        return try ValueDecoder(value: v, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        let (v, path) = try next()
        return ValueDecoder(value: v, codingPath: path)
    }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [CodingKey]
    func decodeNil() -> Bool { value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try unbox(value, as: type, path: codingPath) }
}

extension JSONValue: Decodable {
    /// Only `JSONValueDecoder` produces these; decoding keeps the value as it is.
    public init(from decoder: Decoder) throws {
        guard let inner = decoder as? ValueDecoder else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "JSONValue needs JSONValueDecoder"))
        }
        self = inner.value
    }
}
