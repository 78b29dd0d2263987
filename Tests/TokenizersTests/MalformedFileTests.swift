import Foundation
import Testing
@testable import Tokenizers

/// Damaged or unsupported files throw errors that name the file and the field, never crash.
@Suite struct MalformedFileTests {
    static let minimalModel = #""model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#

    /// Writes `files` into a fresh folder and loads it.
    func load(_ files: [String: String]) throws -> Tokenizer {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try Tokenizer(directory: dir.path)
    }

    func expectError(_ files: [String: String], file: String = "tokenizer.json",
                     _ check: (TokenizerError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try load(files)
            Issue.record("no error thrown", sourceLocation: sourceLocation)
        } catch let error as TokenizerError {
            #expect(check(error), "\(error)", sourceLocation: sourceLocation)
            let message = error.errorDescription ?? ""
            #expect(message.contains(file), "\(message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func minimalFileLoadsAndMerges() throws {
        let tok = try load(["tokenizer.json": "{\(Self.minimalModel)}"])
        #expect(tok.encode("abba").ids == [2, 1, 0])
        #expect(tok.decode([2, 1]) == "ab b")  // no decoder: tokens joined by spaces, as HF
        #expect(tok.vocabularySize == 3)
    }

    @Test func missingTokenizerJSON() {
        expectError([:]) { if case .unreadableFile = $0 { return true } else { return false } }
    }

    @Test func badJSON() {
        expectError(["tokenizer.json": "{\"model\": "]) {
            if case .malformedJSON = $0 { return true } else { return false }
        }
        expectError(["tokenizer.json": "{\(Self.minimalModel)}", "tokenizer_config.json": "{,}"],
                    file: "tokenizer_config.json") {
            if case .malformedJSON = $0 { return true } else { return false }
        }
    }

    @Test func unknownStageTypesAreNamed() {
        let cases: [(String, String, String)] = [
            (#""normalizer": {"type": "Bogus"}"#, "normalizer", "Bogus"),
            (#""pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "Whatever"}]}"#,
             "pre_tokenizer.pretokenizers[1]", "Whatever"),
            (#""post_processor": {"type": "RobertaProcessing"}"#, "post_processor", "RobertaProcessing"),
            (#""decoder": {"type": "WordPiece"}"#, "decoder", "WordPiece"),
        ]
        for (stage, field, type) in cases {
            expectError(["tokenizer.json": "{\(stage), \(Self.minimalModel)}"]) {
                $0 == .unknownType(file: $0.file, field: field, type: type)
            }
        }
        expectError(["tokenizer.json": #"{"model": {"type": "WordPiece", "vocab": {}}}"#]) {
            $0 == .unknownType(file: $0.file, field: "model", type: "WordPiece")
        }
    }

    @Test func missingFieldsAreNamed() {
        expectError(["tokenizer.json": "{}"]) { $0 == .missingField(file: $0.file, field: "model") }
        expectError(["tokenizer.json": #"{"model": {"type": "BPE"}}"#]) {
            $0 == .missingField(file: $0.file, field: "model.vocab")
        }
        expectError(["tokenizer.json": "{\"decoder\": {\"content\": \" \"}, \(Self.minimalModel)}"]) {
            $0 == .missingField(file: $0.file, field: "decoder.type")
        }
        expectError(["tokenizer.json": "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \" \"}}, \(Self.minimalModel)}"]) {
            $0 == .missingField(file: $0.file, field: "pre_tokenizer.behavior")
        }
        expectError(["tokenizer.json": "{\"decoder\": {\"type\": \"Strip\", \"content\": \" \", \"start\": 1}, \(Self.minimalModel)}"]) {
            $0 == .missingField(file: $0.file, field: "decoder.stop")
        }
    }

    @Test func invalidValuesAreNamed() {
        expectError(["tokenizer.json": #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}"#]) {
            if case let .invalidField(_, field, _) = $0 { return field == "model.merges[0]" } else { return false }
        }
        expectError(["tokenizer.json": #"{"model": {"type": "BPE", "dropout": 0.1, "vocab": {"a": 0}}}"#]) {
            if case let .invalidField(_, field, _) = $0 { return field == "model.dropout" } else { return false }
        }
        expectError(["tokenizer.json": #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1900000000}}}"#]) {
            if case let .invalidField(_, field, _) = $0 { return field == "model.vocab" } else { return false }
        }
        expectError(["tokenizer.json": #"{"model": {"type": "BPE", "vocab": {"a": -1}}}"#]) {
            if case let .invalidField(_, field, _) = $0 { return field == "model.vocab.a" } else { return false }
        }
        expectError(["tokenizer.json": "{\"added_tokens\": [{\"id\": \"x\", \"content\": \"<s>\"}], \(Self.minimalModel)}"]) {
            if case let .invalidField(_, field, _) = $0 { return field == "added_tokens[0].id" } else { return false }
        }
        expectError(["tokenizer.json": "{\(Self.minimalModel)}", "tokenizer_config.json": #"{"add_bos_token": "yes"}"#],
                    file: "tokenizer_config.json") {
            if case let .invalidField(_, field, _) = $0 { return field == "add_bos_token" } else { return false }
        }
        expectError(["tokenizer.json": "{\(Self.minimalModel)}",
                     "tokenizer_config.json": #"{"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<nope>"}"#],
                    file: "tokenizer_config.json") {
            if case let .invalidField(_, field, _) = $0 { return field == "bos_token" } else { return false }
        }
    }

    @Test func damagedVocabularyFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let gguf = dir.appendingPathComponent("bad.gguf")
        try Data("GGUF\u{3}\0\0\0".utf8).write(to: gguf)
        #expect(throws: TokenizerError.self) { try Tokenizer(ggufFile: gguf.path) }
        try Data("NOPE0000".utf8).write(to: gguf)
        #expect(throws: TokenizerError.malformedVocabulary(file: gguf.path, reason: "not a GGUF file (bad magic)")) {
            try Tokenizer(ggufFile: gguf.path)
        }
        let tiktoken = dir.appendingPathComponent("bad.tiktoken")
        try "IQ== 0\nIg== x\n".write(to: tiktoken, atomically: true, encoding: .utf8)
        #expect(throws: TokenizerError.malformedVocabulary(file: tiktoken.path, reason: "line 2: expected 'base64 rank'")) {
            try Tokenizer(tiktokenFile: tiktoken.path)
        }
    }
}

extension TokenizerError {
    /// The file an error names.
    var file: String {
        switch self {
        case let .unreadableFile(f, _), let .malformedJSON(f, _), let .missingField(f, _),
             let .invalidField(f, _, _), let .unknownType(f, _, _), let .malformedVocabulary(f, _):
            return f
        }
    }
}
