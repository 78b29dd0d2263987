#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DecodingDiagnostics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON file of MVC records with its image paths resolved.
public struct MVCDataset: Sendable {
    public let file: String
    public var records: [MVCRecord]

    /// Reads and validates `file`. Relative image paths resolve against `imageRoot` (default: the
    /// file's folder); a path that escapes that root — lexically or through a symbolic link — is
    /// refused unless `allowOutsideRoot`.
    public init(file: String, imageRoot: String? = nil, allowOutsideRoot: Bool = false) throws {
        self.file = file
        let data: Data
        do {
            data = try FileRead.contents(of: file)
        } catch {
            throw DatasetError(file: file, reason: error.reason)
        }
        let raw: [MVCRecord]
        do {
            raw = try JSONDecoder().decode([MVCRecord].self, from: data)
        } catch let error as DecodingError {
            throw Self.describe(error, file: file)
        }
        let root = Self.normalise(imageRoot ?? URL(fileURLWithPath: file).deletingLastPathComponent().path)
        let realRoot = Self.resolvingLinks(root)
        func inside(_ path: String, _ root: String) -> Bool { path == root || path.hasPrefix(root == "/" ? "/" : root + "/") }
        records = try raw.enumerated().map { index, record in
            var r = record
            func resolve(_ paths: [String], _ key: String) throws -> [String] {
                try paths.map { p in
                    let full = Self.normalise(p.hasPrefix("/") ? p : root + "/" + p)
                    guard !allowOutsideRoot else { return full }
                    if !inside(full, root) {
                        throw DatasetError(file: file, record: index, key: key,
                                           reason: "image path '\(p)' leads outside the image root \(root) (pass --allow-outside-root to permit)")
                    }
                    let real = Self.resolvingLinks(full)
                    if !inside(real, realRoot) {
                        throw DatasetError(file: file, record: index, key: key,
                                           reason: "image path '\(p)' is a symbolic link (or lies under one) to \(real), outside the image root \(root) (pass --allow-outside-root to permit)")
                    }
                    return full
                }
            }
            r.chosenImages = try resolve(record.chosenImages, "chosen_images")
            r.rejectedImages = try resolve(record.rejectedImages, "rejected_images")
            return r
        }
    }

    public init(file: String, records: [MVCRecord]) {
        self.file = file
        self.records = records
    }

    /// The path with every symbolic link resolved (`realpath`); for a path that does not exist (yet),
    /// its longest existing prefix is resolved and the rest appended.
    static func resolvingLinks(_ path: String) -> String {
        var head = normalise(path)
        var tail: [Substring] = []
        while true {
            if let resolved = realpath(head, nil) {
                defer { free(resolved) }
                return normalise(String(cString: resolved) + "/" + tail.reversed().joined(separator: "/"))
            }
            guard head != "/", let slash = head.lastIndex(of: "/") else { return normalise(path) }
            tail.append(head[head.index(after: slash)...])
            head = slash == head.startIndex ? "/" : String(head[..<slash])
        }
    }

    /// Collapses `.`/`..` and repeated slashes lexically (no symlink resolution).
    public static func normalise(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func describe(_ error: DecodingError, file: String) -> DatasetError {
        let failure = DecodingFailure(error)
        guard case let .index(record)? = failure.path.first else {
            // The document itself: not JSON at all, or JSON but not an array.
            return DatasetError(file: file, reason: failure.kind == .invalid ? failure.reason : "must be a JSON array of records")
        }
        let field = failure.field(from: 1)
        let reason = switch failure.kind {
        case .missing: "is missing"
        case .null, .wrongType: "expected \(failure.expectedType == String.self ? "a string" : "\(failure.expectedType ?? Any.self)")"
        case .invalid: failure.detail
        }
        return DatasetError(file: file, record: record, key: field.isEmpty ? nil : field, reason: reason)
    }

    /// Seeded shuffle, then the first `validationCount` records are the validation split.
    public static func split(_ records: [MVCRecord], validationCount: Int, seed: UInt64) -> (train: [MVCRecord], validation: [MVCRecord]) {
        var rng = SplitMix64(seed: seed)
        var shuffled = records
        // An explicit Fisher–Yates so the split never depends on the standard library's algorithm.
        if shuffled.count > 1 {
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                shuffled.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
        }
        let n = min(validationCount, shuffled.count)
        return (Array(shuffled.dropFirst(n)), Array(shuffled.prefix(n)))
    }
}

/// A small, fixed, seedable generator (so splits do not depend on the Swift version's default RNG).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
