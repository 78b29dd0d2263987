import Testing
@testable import Tokenizers

@Suite struct JSONParserTests {
    @Test func parsesNestedValuesAndEscapes() throws {
        let text = #"{"a": [1, -2.5e1, true, null], "b": "x\u00e9\ud83d\ude00\n", "a": 3}"#
        let v = try JSONValue.parse(Array(text.utf8))
        #expect(v["a"] == .number(3))  // last duplicate wins, like serde
        #expect(v["b"] == .string("xé😀\n"))
        guard case let .object(members) = v else { Issue.record("not an object"); return }
        #expect(members.count == 3)
        #expect(members[0].1 == .array([.number(1), .number(-25), .bool(true), .null]))
    }

    @Test func keepsCanonicallyEquivalentKeysApart() throws {
        let v = try JSONValue.parse(Array("{\"\u{E9}\": 1, \"e\u{301}\": 2}".utf8))
        guard case let .object(members) = v else { Issue.record("not an object"); return }
        #expect(members.count == 2)
        #expect(Array(members[0].0.utf8) != Array(members[1].0.utf8))
    }

    @Test func rejectsMalformedText() {
        for bad in ["{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "[1] x", "{\"a\":\"\u{01}\"}"] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(bad.utf8)) }
        }
    }
}
