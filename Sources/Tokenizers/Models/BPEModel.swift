import Synchronization

/// Byte-pair encoding over one pre-tokenised piece: GPT-2/Qwen2 byte-level (the piece's UTF-8
/// bytes start as one symbol each) or SentencePiece-style (one symbol per character, unknown
/// characters falling back to `<0xXX>` byte tokens or `unk`). Merges apply lowest rank first,
/// leftmost first, with a heap, so long pieces stay O(n log n); results are cached per piece.
final class BPEModel: Sendable {
    /// Token string for each id (nil for ids the vocabulary skips).
    let idToToken: [String?]
    /// Ids by the UTF-8 of their token string (for `tokenToID`).
    let tokenIDs: [ByteKey: Int32]
    /// Whether pieces are encoded as byte-level symbols.
    let byteLevel: Bool
    let unkID: Int32?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool

    /// Ids of whole pieces by their raw bytes (byte-level: alphabet decoded; else UTF-8).
    private let pieceIDs: [ByteKey: Int32]
    /// Pair (left << 32 | right) → (rank << 32 | merged id).
    private let merges: PairTable
    /// Byte-level: id of each single byte's token. SentencePiece: id of `<0xXX>`. -1 if absent.
    private let byteIDs: [Int32]
    /// SentencePiece: id of each one-character token of the Basic Multilingual Plane (-1: none)…
    private let bmpIDs: [Int32]
    /// …and of the planes above it.
    private let astralIDs: [UInt32: Int32]
    /// SentencePiece: whether a piece may be cut before each `▁` that follows another character.
    /// True when no token contains such a pair, so no merge can cross the cut — then the cuts
    /// change nothing but let each word hit the cache (Llama-2 has no pre-tokenizer, so a whole
    /// paragraph would otherwise be one piece).
    private let cutsBeforeMetaspace: Bool
    private static let metaspace: Unicode.Scalar = "\u{2581}"
    private let cache = Mutex<[ByteKey: [Int32]]>([:])
    private static let cacheCapacity = 1 << 17
    private static let cacheMaxBytes = 256

    /// - Parameters:
    ///   - vocab: token strings with their ids.
    ///   - merges: merge pairs in priority order (first = applied first).
    init(vocab: [(String, Int)], merges: [(String, String)], unkToken: String?, fuseUnk: Bool,
         byteFallback: Bool, ignoreMerges: Bool, byteLevel: Bool, file: String) throws {
        var maxID = -1
        var tokenIDs: [ByteKey: Int32] = [:]
        tokenIDs.reserveCapacity(vocab.count)
        for (token, id) in vocab {
            guard id >= 0, id < Int(Int32.max) else {
                throw TokenizerError.invalidField(file: file, field: "model.vocab.\(token)", reason: "id \(id) out of range")
            }
            tokenIDs[ByteKey(token)] = Int32(id)
            maxID = max(maxID, id)
        }
        // Ids are dense in every real vocabulary; a huge stray id would make the table explode.
        guard maxID < 2 * vocab.count + 65_536 else {
            throw TokenizerError.invalidField(file: file, field: "model.vocab",
                                              reason: "id \(maxID) is far beyond the \(vocab.count) entries")
        }
        var idToToken = [String?](repeating: nil, count: maxID + 1)
        for (token, id) in vocab { idToToken[id] = token }

        var pieceIDs = tokenIDs
        if byteLevel {
            pieceIDs = [:]
            pieceIDs.reserveCapacity(vocab.count)
            for (token, id) in vocab {
                if let raw = ByteLevelAlphabet.bytes(of: token) { pieceIDs[ByteKey(raw)] = Int32(id) }
            }
        }

        var mergePairs: [(UInt64, UInt64)] = []
        mergePairs.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let l = tokenIDs[ByteKey(a)] else {
                throw TokenizerError.invalidField(file: file, field: "model.merges[\(rank)]", reason: "token '\(a)' not in vocab")
            }
            guard let r = tokenIDs[ByteKey(b)] else {
                throw TokenizerError.invalidField(file: file, field: "model.merges[\(rank)]", reason: "token '\(b)' not in vocab")
            }
            guard let m = tokenIDs[ByteKey(Array(a.utf8) + Array(b.utf8))] else {
                throw TokenizerError.invalidField(file: file, field: "model.merges[\(rank)]",
                                                  reason: "merged token '\(a)\(b)' not in vocab")
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            // A repeated pair keeps its first (highest-priority) rank (PairTable keeps the first).
            mergePairs.append((key, UInt64(rank) << 32 | UInt64(UInt32(m))))
        }

        var byteIDs = [Int32](repeating: -1, count: 256)
        var bmpIDs = [Int32](repeating: -1, count: byteLevel ? 0 : 0x10000)
        var astralIDs: [UInt32: Int32] = [:]
        if byteLevel {
            for b in 0..<256 {
                let s = ByteLevelAlphabet.scalarForByte[b]
                byteIDs[b] = tokenIDs[ByteKey(String(Character(s)))] ?? -1
            }
        } else {
            let hex = Array("0123456789ABCDEF")
            for b in 0..<256 {
                byteIDs[b] = tokenIDs[ByteKey("<0x\(hex[b >> 4])\(hex[b & 15])>")] ?? -1
            }
            for (token, id) in vocab {
                let scalars = token.unicodeScalars
                if scalars.count == 1, let s = scalars.first {
                    if s.value < 0x10000 { bmpIDs[Int(s.value)] = Int32(id) } else { astralIDs[s.value] = Int32(id) }
                }
            }
        }

        if let unk = unkToken {
            guard let id = tokenIDs[ByteKey(unk)] else {
                throw TokenizerError.invalidField(file: file, field: "model.unk_token", reason: "'\(unk)' not in vocab")
            }
            unkID = id
        } else {
            unkID = nil
        }
        self.idToToken = idToToken
        self.tokenIDs = tokenIDs
        self.pieceIDs = pieceIDs
        self.merges = PairTable(mergePairs)
        self.byteIDs = byteIDs
        var cuts = false
        if !byteLevel && tokenIDs[ByteKey("\u{2581}")] != nil {
            cuts = !vocab.contains { token, _ in
                var previous: Unicode.Scalar? = nil
                for s in token.unicodeScalars {
                    if s == Self.metaspace, let p = previous, p != Self.metaspace { return true }
                    previous = s
                }
                return false
            }
        }
        self.cutsBeforeMetaspace = cuts
        self.bmpIDs = bmpIDs
        self.astralIDs = astralIDs
        self.byteLevel = byteLevel
        self.fuseUnk = fuseUnk
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
    }

    /// Number of ids the model spans (max id + 1).
    var count: Int { idToToken.count }

    /// Encodes one piece, appending `(id, start, end)` triples whose positions count scalars
    /// from the start of the piece.
    func encode(_ piece: AlignedText, into out: inout [Int32]) {
        guard cutsBeforeMetaspace else {
            encodeWhole(piece, into: &out)
            return
        }
        var start = 0
        var sub: [Int32] = []
        func flush(_ end: Int) {
            guard end > start else { return }
            sub.removeAll(keepingCapacity: true)
            encodeWhole(piece.slice(start..<end), into: &sub)
            var t = 0
            while t + 2 < sub.count {
                out.append(sub[t]); out.append(sub[t + 1] + Int32(start)); out.append(sub[t + 2] + Int32(start))
                t += 3
            }
            start = end
        }
        for k in 1..<max(1, piece.count)
        where piece.scalar(k) == Self.metaspace && piece.scalar(k - 1) != Self.metaspace {
            flush(k)
        }
        flush(piece.count)
    }

    /// Encodes a piece as one unit (cache, then merges).
    private func encodeWhole(_ piece: AlignedText, into out: inout [Int32]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(piece.count + 4)
        for s in piece.scalars { appendUTF8(s, to: &bytes) }
        let key = ByteKey(bytes)
        let cacheable = bytes.count <= Self.cacheMaxBytes
        if cacheable, let hit = cache.withLock({ $0[key] }) {
            out.append(contentsOf: hit)
            return
        }
        var result: [Int32]
        if ignoreMerges, let id = pieceIDs[key] {
            result = [id, 0, Int32(piece.count)]
        } else {
            result = mergeWord(piece, bytes)
        }
        if cacheable {
            let value = result
            cache.withLock { c in
                if c.count >= Self.cacheCapacity { c.removeAll(keepingCapacity: true) }
                c[key] = value
            }
        }
        out.append(contentsOf: result)
    }

    /// Initial symbols then merges; returns flat `(id, start, end)` triples.
    private func mergeWord(_ piece: AlignedText, _ bytes: [UInt8]) -> [Int32] {
        var ids: [Int32] = []
        var starts: [Int32] = []
        var ends: [Int32] = []
        ids.reserveCapacity(bytes.count)
        starts.reserveCapacity(bytes.count)
        ends.reserveCapacity(bytes.count)
        var lastWasUnk = false

        func pushUnk(_ k: Int) {
            guard let unk = unkID else { return }
            if fuseUnk && lastWasUnk, let last = ends.indices.last {
                ends[last] = Int32(k + 1)
            } else {
                ids.append(unk); starts.append(Int32(k)); ends.append(Int32(k + 1))
            }
            lastWasUnk = true
        }

        if byteLevel {
            var cursor = 0
            for k in 0..<piece.count {
                let len = utf8Length(piece.scalar(k))
                for b in bytes[cursor..<(cursor + len)] {
                    let id = byteIDs[Int(b)]
                    if id >= 0 {
                        ids.append(id); starts.append(Int32(k)); ends.append(Int32(k + 1))
                        lastWasUnk = false
                    } else {
                        pushUnk(k)
                    }
                }
                cursor += len
            }
        } else {
            var cursor = 0
            for k in 0..<piece.count {
                let s = piece.scalar(k)
                let len = utf8Length(s)
                defer { cursor += len }
                let known = s.value < 0x10000 ? bmpIDs[Int(s.value)] : (astralIDs[s.value] ?? -1)
                if known >= 0 {
                    let id = known
                    ids.append(id); starts.append(Int32(k)); ends.append(Int32(k + 1))
                    lastWasUnk = false
                    continue
                }
                if byteFallback {
                    let slice = bytes[cursor..<(cursor + len)]
                    if slice.allSatisfy({ byteIDs[Int($0)] >= 0 }) {
                        for b in slice {
                            ids.append(byteIDs[Int(b)]); starts.append(Int32(k)); ends.append(Int32(k + 1))
                        }
                        lastWasUnk = false
                        continue
                    }
                }
                pushUnk(k)
            }
        }

        let n = ids.count
        if n > 1 {
            var next = [Int32](repeating: -1, count: n)
            var prev = [Int32](repeating: -1, count: n)
            var alive = [Bool](repeating: true, count: n)
            for i in 0..<n {
                next[i] = i + 1 < n ? Int32(i + 1) : -1
                prev[i] = Int32(i - 1)
            }
            var heap = MergeHeap(capacity: n)
            @inline(__always) func lookup(_ a: Int32, _ b: Int32) -> UInt64? {
                merges[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))]
            }
            for i in 0..<(n - 1) {
                if let m = lookup(ids[i], ids[i + 1]) { heap.push(m & 0xFFFF_FFFF_0000_0000 | UInt64(i)) }
            }
            while let top = heap.pop() {
                let pos = Int(top & 0xFFFF_FFFF)
                let rank = top >> 32
                guard alive[pos] else { continue }
                let right = Int(next[pos])
                guard right >= 0, let m = lookup(ids[pos], ids[right]), m >> 32 == rank else { continue }
                ids[pos] = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
                ends[pos] = ends[right]
                alive[right] = false
                let after = next[right]
                next[pos] = after
                if after >= 0 { prev[Int(after)] = Int32(pos) }
                let before = prev[pos]
                if before >= 0, let pm = lookup(ids[Int(before)], ids[pos]) {
                    heap.push(pm & 0xFFFF_FFFF_0000_0000 | UInt64(before))
                }
                if after >= 0, let nm = lookup(ids[pos], ids[Int(after)]) {
                    heap.push(nm & 0xFFFF_FFFF_0000_0000 | UInt64(pos))
                }
            }
            var result: [Int32] = []
            result.reserveCapacity(n * 3)
            var i = 0
            while i >= 0 && i < n {
                result.append(ids[i]); result.append(starts[i]); result.append(ends[i])
                i = Int(next[i])
            }
            return result
        }
        var result: [Int32] = []
        for i in 0..<n { result.append(ids[i]); result.append(starts[i]); result.append(ends[i]) }
        return result
    }
}
