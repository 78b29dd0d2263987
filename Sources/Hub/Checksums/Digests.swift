import Crypto

/// The two digests the Hub names files by, over swift-crypto (already in the package for the reference
/// log-prob cache): SHA-256 of LFS files (their ETag) and the git blob id (SHA-1) of small files.
/// Incremental, so a download is hashed as it streams.
public struct SHA256: Sendable {
    private var hasher = Crypto.SHA256()

    public init() {}

    /// Adds bytes to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 { hasher.update(data: Array(bytes)) }

    /// The 32-byte digest of everything added so far.
    public func finalize() -> [UInt8] { Array(hasher.finalize()) }

    public func hexDigest() -> String { Hex.encode(finalize()) }

    /// The lower-case hex SHA-256 of `bytes`.
    public static func hash<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = SHA256()
        s.update(bytes)
        return s.hexDigest()
    }
}

/// SHA-1, only to check git blob ids: the Hub names a small (non-LFS) file by its git blob id,
/// sha1("blob <size>\0" + content). Not for security.
public struct SHA1: Sendable {
    private var hasher = Insecure.SHA1()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 { hasher.update(data: Array(bytes)) }

    public func hexDigest() -> String { Hex.encode(Array(hasher.finalize())) }

    /// git's object id of a file with this content.
    public static func gitBlobID<C: Collection>(_ content: C) -> String where C.Element == UInt8 {
        var s = SHA1()
        s.update(Array("blob \(content.count)\u{0}".utf8))
        s.update(content)
        return s.hexDigest()
    }
}

/// Lower-case hexadecimal text of bytes.
public enum Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
