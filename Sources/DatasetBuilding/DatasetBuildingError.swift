#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A problem with a dataset-building input, flag or output: names the file, the record (0-based
/// position in the file's array) and the field when there is one.
public struct DatasetBuildingError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    public let file: String
    public let record: Int?
    public let field: String?
    public let reason: String

    public init(file: String, record: Int? = nil, field: String? = nil, reason: String) {
        self.file = file
        self.record = record
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var s = file
        if let record { s += ": record \(record)" }
        if let field { s += ": field '\(field)'" }
        return s + ": " + reason
    }

    public var errorDescription: String? { description }
}
