import DecodingDiagnostics
import Foundation
import Testing

@Suite struct DecodingFailureTests {
    struct Layer: Decodable { var name: String; var size: Int }
    struct Config: Decodable {
        var layers: [Layer]
        var tokens: [String: Int]?
    }

    func failure(_ json: String) throws -> DecodingFailure {
        do {
            _ = try JSONDecoder().decode(Config.self, from: Data(json.utf8))
        } catch let error as DecodingError {
            return DecodingFailure(error)
        }
        throw CancellationError()  // decoded: the test's JSON was meant to fail
    }

    @Test func missingKeysEndThePath() throws {
        let f = try failure(#"{"layers": [{"name": "a", "size": 1}, {"name": "b"}]}"#)
        #expect(f.kind == .missing)
        #expect(f.path == [.key("layers"), .index(1), .key("size")])
        #expect(f.field == "layers[1].size" && f.field(from: 2) == "size")
        #expect(f.reason == "is required")
    }

    @Test func wrongTypesNullsAndBadJSON() throws {
        let wrong = try failure(#"{"layers": [{"name": "a", "size": "big"}]}"#)
        #expect(wrong.kind == .wrongType && wrong.field == "layers[0].size" && wrong.expectedType == Int.self)
        #expect(wrong.reason.hasPrefix("has the wrong type ("))
        let null = try failure(#"{"layers": null}"#)
        #expect(null.kind == .null && null.field == "layers" && null.reason == "is null")
        let broken = try failure(#"{"layers": ["#)
        #expect(broken.kind == .invalid && broken.path.isEmpty && broken.reason.hasPrefix("is not valid JSON ("))
    }

    /// A dictionary key that reads as a number ("32000", as in added_tokens_decoder) stays a key;
    /// only array positions are indices.
    @Test func numericDictionaryKeysAreKeys() throws {
        let f = try failure(#"{"layers": [], "tokens": {"32000": "x"}}"#)
        #expect(f.path == [.key("tokens"), .key("32000")])
        #expect(f.field == "tokens.32000")
    }

    @Test func aTypesOwnCheckKeepsItsWords() {
        let error = DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "needs at least one image"))
        let inner = DecodingFailure(error)
        #expect(inner.kind == .invalid && inner.detail == "needs at least one image")
        #expect(DecodingFailure(CancellationError() as any Error) == nil)
    }
}
