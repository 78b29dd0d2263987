#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AtomicFiles
import Datasets
import Tokenizers

/// A JSON array of image-pair records, the input and output of every stage before `augment`:
///
/// ```json
/// [{"id": "cc-0001", "images": ["flickr30k/1.jpg", "Flickr30k-Counterfactuals/1_up.jpg"],
///   "captions": ["A cat on a table.", "A cat under a table."],
///   "source": "CounterCurate", "category": "up_down"}]
/// ```
///
/// `images` (two paths, relative to the file's folder unless absolute) is all that `similarity`
/// needs; `captions` (the two source captions, in image order) is what `augment` rewrites;
/// `source` and the category field are what `filter` reads. Every other field is carried along
/// unchanged, in its order; stages add fields (``PairFields``) and never drop any.
public struct PairFile: Sendable {
    /// Where the records were read from (errors name it).
    public let path: String
    /// The records, each a JSON object, in file order.
    public var records: [JSONValue]

    /// Reads `path`: a JSON array whose elements are all objects.
    public init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DatasetBuildingError(file: path, reason: "cannot read the file (\(error))")
        }
        try self.init(bytes: Array(data), path: path)
    }

    /// Parses records already in memory; `path` is used in errors and to resolve image paths.
    public init(bytes: [UInt8], path: String) throws {
        self.path = path
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw DatasetBuildingError(file: path, reason: "not valid JSON: \(error)")
        }
        guard case let .array(items) = document else {
            throw DatasetBuildingError(file: path, reason: "must be a JSON array of records")
        }
        for (index, item) in items.enumerated() {
            guard case .object = item else {
                throw DatasetBuildingError(file: path, record: index, reason: "must be a JSON object")
            }
        }
        records = items
    }

    public init(path: String, records: [JSONValue]) {
        self.path = path
        self.records = records
    }

    /// Writes `records` to `path` as one pretty-printed JSON array, atomically.
    public static func write(_ records: [JSONValue], to path: String) throws {
        do {
            try AtomicFile.write(JSONText.document(.array(records)), to: path)
        } catch {
            throw DatasetBuildingError(file: path, reason: "cannot write: \(error)")
        }
    }

    // MARK: fields

    /// The string at `field` of record `index`.
    public func string(_ index: Int, _ field: String) throws -> String {
        guard let value = records[index][field] else { throw missing(index, field) }
        guard case let .string(s) = value else {
            throw DatasetBuildingError(file: path, record: index, field: field, reason: "must be a string")
        }
        return s
    }

    /// The string at `field`, or nil when the record has no such field.
    public func optionalString(_ index: Int, _ field: String) throws -> String? {
        guard records[index][field] != nil else { return nil }
        return try string(index, field)
    }

    /// The finite number at `field` of record `index`.
    public func number(_ index: Int, _ field: String, hint: String = "") throws -> Double {
        guard let value = records[index][field] else { throw missing(index, field, hint: hint) }
        guard let d = value.numberValue, d.isFinite else {
            throw DatasetBuildingError(file: path, record: index, field: field, reason: "must be a finite number")
        }
        return d
    }

    /// Exactly two strings at `field` (`images`, `captions`), each non-empty after trimming.
    public func pair(_ index: Int, _ field: String) throws -> (String, String) {
        guard let value = records[index][field] else { throw missing(index, field) }
        guard case let .array(items) = value, items.count == 2,
              case let .string(a) = items[0], case let .string(b) = items[1] else {
            throw DatasetBuildingError(file: path, record: index, field: field, reason: "must be an array of two strings")
        }
        for s in [a, b] where TextNormalisation.trimmed(s).isEmpty {
            throw DatasetBuildingError(file: path, record: index, field: field, reason: "must not hold an empty string")
        }
        return (a, b)
    }

    /// The two image paths of record `index`, resolved against `imageRoot` (default: the file's
    /// folder) when relative, `.`/`..` collapsed.
    public func imagePaths(_ index: Int, imageRoot: String?) throws -> (String, String) {
        let (a, b) = try pair(index, PairFields.images)
        let root = imageRoot ?? URL(fileURLWithPath: path).deletingLastPathComponent().path
        func resolve(_ p: String) -> String { MVCDataset.normalise(p.hasPrefix("/") ? p : root + "/" + p) }
        return (resolve(a), resolve(b))
    }

    /// "record 12" or "record 12 (id cc-0001)", for progress and failure lines.
    public func label(_ index: Int) -> String {
        if case let .string(id)? = records[index]["id"] { return "record \(index) (id \(id))" }
        if case let .integer(id)? = records[index]["id"] { return "record \(index) (id \(id))" }
        return "record \(index)"
    }

    func missing(_ index: Int, _ field: String, hint: String = "") -> DatasetBuildingError {
        DatasetBuildingError(file: path, record: index, field: field, reason: "is missing" + hint)
    }
}

/// The field names the stages read and write (each spelled once).
public enum PairFields {
    /// The two image paths.
    public static let images = "images"
    /// The two source captions, in image order.
    public static let captions = "captions"
    /// Written by `similarity`: cosine similarity of the two images' SigLIP image features.
    public static let siglipSimilarity = "siglip_similarity"
    /// Written by `similarity`: cosine similarity of the two images' DINOv2 pooled outputs.
    public static let dinov2Similarity = "dinov2_similarity"
    /// Where a record came from; `filter` drops FineCops-Ref's "Order" category.
    public static let defaultSource = "source"
    /// The category `filter` groups and samples by (`--category-field`).
    public static let defaultCategory = "category"
}

extension JSONValue {
    /// An object with `field` set to `value`: replaced in place when present, else appended.
    func setting(_ field: String, _ value: JSONValue) -> JSONValue {
        guard case var .object(members) = self else { return self }
        if let i = members.lastIndex(where: { $0.0 == field }) {
            members[i].1 = value
        } else {
            members.append((field, value))
        }
        return .object(members)
    }
}
