#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DecodingDiagnostics

/// A config.json problem, naming the file and the field.
public struct ConfigError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let file: String
    public let field: String
    public let reason: String

    public init(file: String, field: String, reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }

    public var description: String { field.isEmpty ? "\(file): \(reason)" : "\(file): field '\(field)': \(reason)" }
    public var errorDescription: String? { description }
}

/// Reads a config file, turning decoding failures into `ConfigError`s that name the field.
public enum ConfigFile {
    public static func decode<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(file: path, field: "", reason: "no such file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigError(file: path, field: "", reason: "cannot read the file")
        }
        return try decode(type, data: data, path: path)
    }

    public static func decode<T: Decodable>(_ type: T.Type, data: Data, path: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as ConfigError {
            throw ConfigError(file: path, field: error.field, reason: error.reason)
        } catch let error as DecodingError {
            let failure = DecodingFailure(error)
            throw ConfigError(file: path, field: failure.field, reason: failure.reason)
        }
    }
}

/// Checks used by config initialisers; the thrown error's file is filled in by `ConfigFile`.
enum Check {
    static func positive(_ value: Int, _ field: String) throws {
        if value <= 0 { throw ConfigError(file: "", field: field, reason: "must be positive, got \(value)") }
    }

    static func divisible(_ value: Int, by divisor: Int, _ field: String, _ divisorField: String) throws {
        if divisor <= 0 || value % divisor != 0 {
            throw ConfigError(file: "", field: field, reason: "\(value) is not divisible by \(divisorField) = \(divisor)")
        }
    }
}

extension ConfigError {
    /// `value` is none of `supported`.
    static func unsupported(_ value: String, field: String, supported: [String], file: String = "") -> ConfigError {
        ConfigError(file: file, field: field, reason: "'\(value)' is not supported (supported: \(supported.joined(separator: ", ")))")
    }
}

/// A config string naming one of a fixed set of choices (an activation, a model type, …): parsed
/// into its enum once, when the config is read, so no code compares strings later.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Sendable where RawValue == String {}

extension ConfigChoice {
    /// The choice `raw` names; an unknown name is an error naming `field` and the supported names.
    static func parse(_ raw: String, field: String) throws -> Self {
        guard let value = Self(rawValue: raw) else {
            throw ConfigError.unsupported(raw, field: field, supported: allCases.map(\.rawValue))
        }
        return value
    }
}

extension KeyedDecodingContainer {
    /// The choice named by the string at `key`, or `default` when the field is absent or null.
    func decodeChoice<T: ConfigChoice>(_ type: T.Type, forKey key: Key, default: T) throws -> T {
        guard let raw = try decodeIfPresent(String.self, forKey: key) else { return `default` }
        return try T.parse(raw, field: DecodingFailure.field(codingPath + [key]))
    }
}

/// A JSON value that is an integer or a list of integers (`vision_feature_layer`).
public enum IntOrList: Codable, Sendable, Equatable {
    case int(Int)
    case list([Int])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) {
            self = .int(v)
        } else {
            self = .list(try c.decode([Int].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .list(let v): try c.encode(v)
        }
    }

    public var values: [Int] {
        switch self {
        case .int(let v): [v]
        case .list(let v): v
        }
    }
}
