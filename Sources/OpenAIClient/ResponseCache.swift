#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AtomicFiles
import ChatCompletions

/// Chat-completions replies on disk, one small JSON file per request, so a rerun asks nothing
/// twice and an interrupted run keeps every reply it got (each file is written to a temporary
/// name, synced and renamed into place).
///
/// The key is the whole request body (model, messages, temperature, max tokens; never the API
/// key), stored in the entry and compared on lookup: the file name is only a 64-bit FNV-1a hash
/// of it, and a colliding entry moves on to `<hash>-1.json`, `<hash>-2.json`, ….
public actor ResponseCache {
    public nonisolated let directory: String

    struct Entry: Codable {
        var request: ChatRequest
        var reply: String
    }

    public init(directory: String) {
        self.directory = directory
    }

    /// The cached reply for `request`, or nil. An unreadable entry is an error (the cache is the
    /// user's record of paid requests: it is not silently overwritten).
    public func lookup(_ request: ChatRequest) throws -> String? {
        let key = try request.encoded()
        for path in candidates(for: key) {
            guard let entry = try read(path) else { return nil }
            if entry.request == request { return entry.reply }
        }
        return nil
    }

    /// Stores `reply` for `request` (in the first free slot of its hash, or over its own entry).
    public func store(_ request: ChatRequest, reply: String) throws {
        let key = try request.encoded()
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ResponseCacheError(path: directory, reason: "cannot create the folder: \(error)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let bytes = Array(try encoder.encode(Entry(request: request, reply: reply))) + [0x0A]
        for path in candidates(for: key) {
            if let existing = try read(path), existing.request != request { continue }
            do {
                try AtomicFile.write(bytes, to: path)
            } catch {
                throw ResponseCacheError(path: path, reason: "cannot write: \(error)")
            }
            return
        }
    }

    /// How many entries the folder holds (for the "N cached" line).
    public nonisolated func entryCount() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.count
    }

    private func read(_ path: String) throws -> Entry? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ResponseCacheError(path: path, reason: "cannot read: \(error)")
        }
        do {
            return try JSONDecoder().decode(Entry.self, from: data)
        } catch {
            throw ResponseCacheError(path: path, reason: "not a reply cache entry (delete the file to ask again)")
        }
    }

    /// `<hash>.json`, `<hash>-1.json`, … (the sequence ends at the first missing file in `lookup`).
    private nonisolated func candidates(for key: [UInt8]) -> some Sequence<String> {
        let name = Self.hexHash(key)
        let base = directory
        return (0..<10_000).lazy.map { $0 == 0 ? "\(base)/\(name).json" : "\(base)/\(name)-\($0).json" }
    }

    /// 64-bit FNV-1a, as 16 hex digits.
    static func hexHash(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            hash ^= UInt64(b)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The reply cache could not be read or written; names the file.
public struct ResponseCacheError: Error, Equatable, Sendable, LocalizedError, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "reply cache \(path): \(reason)" }
    public var errorDescription: String? { description }
}
