import Foundation
import Hub
import Testing

/// SHA-256, SHA-1 and git blob ids against FIPS 180-4's examples and Python's hashlib
/// (Fixtures/expected.json, made by Fixtures/make_fixtures.py).
@Suite struct ChecksumTests {
    struct Expected: Decodable {
        struct Digest: Decodable { var length: Int; var sha256: String; var sha1: String; var git_blob: String }
        struct Match: Decodable { var pattern: String; var path: String; var match: Bool }
        var digests: [Digest]
        var fnmatch: [Match]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Support.fixtures.appendingPathComponent("expected.json")))
    }

    @Test func fipsExamples() {
        #expect(SHA256.hash(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var s = SHA1()
        s.update(Array("abc".utf8))
        #expect(s.hexDigest() == "a9993e364706816aba3e25717850c26c9cd0d89d")
        // `git hash-object` of "hello\n".
        #expect(SHA1.gitBlobID(Array("hello\n".utf8)) == "ce013625030ba8dba906f756967f9e9ca394464a")
    }

    @Test func matchesHashlibAtBlockBoundaries() throws {
        for d in try Self.expected().digests {
            let data = Support.pattern(d.length)
            #expect(SHA256.hash(data) == d.sha256, "sha256 of \(d.length) bytes")
            var one = SHA1()
            one.update(data)
            #expect(one.hexDigest() == d.sha1, "sha1 of \(d.length) bytes")
            #expect(SHA1.gitBlobID(data) == d.git_blob, "git blob id of \(d.length) bytes")
            // Fed in uneven pieces, as network chunks arrive.
            var pieces = SHA256()
            var i = 0, step = 1
            while i < data.count {
                let end = min(data.count, i + step)
                data[i..<end].withUnsafeBytes { pieces.update($0) }
                i = end
                step = step * 3 % 1021 + 1
            }
            #expect(pieces.hexDigest() == d.sha256, "sha256 of \(d.length) bytes in pieces")
        }
    }

    @Test func globsMatchPythonFnmatch() throws {
        for m in try Self.expected().fnmatch {
            #expect(PathFilter(include: [m.pattern]).accepts(m.path) == m.match, "fnmatch('\(m.path)', '\(m.pattern)')")
        }
    }
}
