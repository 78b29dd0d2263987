#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import AtomicFiles
import Crypto
import Datasets
import Torch

/// What the reference log-probs of a record depend on besides the record: a digest of each part, and
/// one digest of them all (`value`). Two runs may share cached values only when `value` is equal.
public struct ReferenceCacheKey: Codable, Sendable, Equatable {
    /// Part name → lowercase hex SHA-256.
    public var components: [String: String]
    /// SHA-256 over the sorted components.
    public var value: String

    public init(components: [String: String]) {
        self.components = components
        var hasher = SHA256()
        for name in components.keys.sorted() {
            hasher.update(data: Array("\(name)=\(components[name] ?? "")\n".utf8))
        }
        value = Digests.hex(hasher.finalize())
    }

    /// The key of a reference model folder scored with the tokenizer, image processor and chat
    /// template of `inputsDirectory`: weights (every `*.safetensors` file's bytes and `config.json`),
    /// tokenizer files and its EOS setting, the template text, the maximum length, the image processor
    /// configuration and the forward precision (e.g. "float32", "autocast-bfloat16").
    public static func make(referenceDirectory: String, inputsDirectory: String, template: String, maxLength: Int,
                            addEOS: Bool?, precision: String) throws -> ReferenceCacheKey {
        let fm = FileManager.default
        let weightFiles = try fm.contentsOfDirectory(atPath: referenceDirectory).filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !weightFiles.isEmpty else { throw TrainingError.io(path: referenceDirectory, reason: "no .safetensors weights to key the reference cache on") }
        var weights = SHA256()
        for name in weightFiles + ["config.json"] {
            weights.update(data: Array("\(name)\n".utf8))
            try Digests.addFile(referenceDirectory + "/" + name, to: &weights)
        }
        var tokenizer = SHA256()
        tokenizer.update(data: Array("add_eos=\(addEOS.map { "\($0)" } ?? "default")\n".utf8))
        for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.json",
                     "merges.txt", "tokenizer.model"] where fm.fileExists(atPath: inputsDirectory + "/" + name) {
            tokenizer.update(data: Array("\(name)\n".utf8))
            try Digests.addFile(inputsDirectory + "/" + name, to: &tokenizer)
        }
        var processor = SHA256()
        for name in ["preprocessor_config.json", "processor_config.json"] where fm.fileExists(atPath: inputsDirectory + "/" + name) {
            processor.update(data: Array("\(name)\n".utf8))
            try Digests.addFile(inputsDirectory + "/" + name, to: &processor)
        }
        return ReferenceCacheKey(components: [
            "format": "svco-reference-logps-1",
            "weights": Digests.hex(weights.finalize()),
            "tokenizer": Digests.hex(tokenizer.finalize()),
            "chat_template": Digests.hex(SHA256.hash(data: Array(template.utf8))),
            "max_length": String(maxLength),
            "image_processor": Digests.hex(processor.finalize()),
            "precision": precision,
        ])
    }
}

/// SHA-256 helpers.
enum Digests {
    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Streams a file into `hasher` (weights may be many gigabytes).
    static func addFile(_ path: String, to hasher: inout SHA256) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TrainingError.io(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 22)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TrainingError.io(path: path, reason: "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// The content digest of a record: its six text/path fields and the bytes of every image it names.
    static func record(_ r: MVCRecord) throws -> [UInt8] {
        var hasher = SHA256()
        func field(_ s: String) {
            let bytes = Array(s.utf8)
            var length = UInt64(bytes.count).littleEndian
            withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
            hasher.update(data: bytes)
        }
        for s in [r.systemPrompt, r.instructionPrompt, r.chosenResponse, r.rejectedResponse] { field(s) }
        for (tag, paths) in [("chosen", r.chosenImages), ("rejected", r.rejectedImages)] {
            field(tag)
            for path in paths {
                field(path)
                try addFile(path, to: &hasher)
            }
        }
        return Array(hasher.finalize())
    }
}

/// The on-disk cache of reference log-probs: six float64 per record content digest (NaN for a kind
/// not computed), under a `ReferenceCacheKey`.
///
/// Layout (little-endian): magic `SVCORLP1`; u64 header length and a JSON header (key, components,
/// count); u64 count; count × (32-byte record digest, 6 × float64 in the order cc, rc, cr, rr, nc, nr);
/// a SHA-256 of every byte before it. Written atomically (temporary file, fsync, rename); a file whose
/// checksum, sizes or header do not add up is reported as corrupt and never used.
public enum ReferenceLogProbCache {
    static let magic = Array("SVCORLP1".utf8)
    public static let kindOrder = SequenceKind.allCases

    /// What reading a cache file found.
    public enum Lookup: Equatable {
        case entries([[UInt8]: [Double]])
        case absent
        /// A readable cache made under another key.
        case keyChanged(found: String)
        case corrupt(String)
    }

    struct Header: Codable {
        var key: String
        var components: [String: String]
        var count: Int
    }

    public static func read(path: String, key: ReferenceCacheKey) -> Lookup {
        guard FileManager.default.fileExists(atPath: path) else { return .absent }
        guard let data = FileManager.default.contents(atPath: path) else { return .corrupt("cannot be read") }
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count + 8 + 8 + 32 else { return .corrupt("too short (\(bytes.count) bytes)") }
        let body = bytes[0..<(bytes.count - 32)]
        guard Array(SHA256.hash(data: Array(body))) == Array(bytes[(bytes.count - 32)...]) else {
            return .corrupt("checksum mismatch (truncated or damaged)")
        }
        guard Array(bytes[0..<magic.count]) == magic else { return .corrupt("not an svco reference log-prob cache") }
        var offset = magic.count
        func raw64() -> UInt64? {
            guard offset + 8 <= body.count else { return nil }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            offset += 8
            return v
        }
        func u64() -> Int? { raw64().flatMap { $0 > UInt64(Int.max / 2) ? nil : Int($0) } }
        guard let headerLength = u64(), offset + headerLength <= body.count,
              let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[offset..<(offset + headerLength)])) else {
            return .corrupt("unreadable header")
        }
        offset += headerLength
        guard let count = u64(), count == header.count, offset + count * (32 + 48) == body.count else {
            return .corrupt("entry count does not match the file size")
        }
        guard header.key == key.value else { return .keyChanged(found: header.key) }
        var entries: [[UInt8]: [Double]] = [:]
        for _ in 0..<count {
            let digest = Array(bytes[offset..<(offset + 32)])
            offset += 32
            var values: [Double] = []
            for _ in 0..<6 {
                guard let bits = raw64() else { return .corrupt("truncated entry") }
                values.append(Double(bitPattern: bits))
            }
            entries[digest] = values
        }
        return .entries(entries)
    }

    public static func write(path: String, key: ReferenceCacheKey, entries: [[UInt8]: [Double]]) throws {
        var out = magic
        func u64(_ v: UInt64) { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        let header = try JSONEncoder().encode(Header(key: key.value, components: key.components, count: entries.count))
        u64(UInt64(header.count))
        out += header
        u64(UInt64(entries.count))
        // Sorted so that equal contents give byte-identical files.
        for digest in entries.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            out += digest
            for v in entries[digest] ?? [] { u64(v.bitPattern) }
        }
        out += Array(SHA256.hash(data: out))
        try AtomicFile.write(to: path) { try $0.write(out) }
    }
}

/// Precomputed reference log-probs of a set of records, looked up by record content during training.
public final class ReferenceLogProbTable {
    struct RecordText: Hashable {
        var fields: [String]
        init(_ r: MVCRecord) {
            fields = [r.systemPrompt, r.instructionPrompt, r.chosenResponse, r.rejectedResponse]
                + ["\u{0}chosen"] + r.chosenImages + ["\u{0}rejected"] + r.rejectedImages
        }
    }
    var values: [RecordText: [Double]] = [:]

    public init() {}

    /// The reference log-probs of `records` for `kinds`, kind-major as the policy's.
    public func logProbs(for records: [MVCRecord], kinds: [SequenceKind], device: Device) throws -> SixSequenceLogProbs {
        var stacked: [Double] = []
        for kind in kinds {
            guard let k = ReferenceLogProbCache.kindOrder.firstIndex(of: kind) else { continue }
            for r in records {
                guard let v = values[RecordText(r)], !v[k].isNaN else {
                    throw TrainingError.invalidArguments("no precomputed reference log-prob for a record (\(kind.rawValue)): \(r.instructionPrompt.prefix(60))")
                }
                stacked.append(v[k])
            }
        }
        return SixSequenceLogProbs(stacked: Tensor(stacked, shape: [stacked.count]).to(.float32, device: device), kinds: kinds)
    }
}
