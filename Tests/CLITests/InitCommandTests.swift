import Foundation
import Testing

/// `svco init`: a random model folder from a config.json that svco (and transformers) can load.
@Suite struct InitCommandTests {
    /// The demo model: a config, weights made by transformers from it, and a tokenizer + processor.
    static let tiny = CLITests.root + "/demo/tiny-llava"

    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "svco-init-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesALoadableFolderWithTheConfigsShape() throws {
        let out = try scratch() + "/model"
        let r = try CLITests.run(["init", "--config", Self.tiny + "/config.json", "--out", out, "--seed", "3",
                                  "--tokenizer-from", Self.tiny])
        #expect(r.status == 0, "\(r.output)")
        for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
        }
        // Same shapes as the fixture made by transformers from the same config: the same parameter counts.
        let made = try CLITests.run(["inspect", out, "--json"])
        let fixture = try CLITests.run(["inspect", Self.tiny, "--json"])
        #expect(made.status == 0 && fixture.status == 0, "\(made.output)\n\(fixture.output)")
        let counts = { (s: String) in s.range(of: "\"parameters\"").map { String(s[$0.lowerBound...]) } }
        #expect(counts(made.output) != nil && counts(made.output) == counts(fixture.output))
        // The folder is usable end to end (tokenizer, template and processor copied): it scores MVC records.
        let scores = try scratch() + "/scores.jsonl"
        let score = try CLITests.run(["score", "--model", out, "--data", CLITests.root + "/demo/mvc/eval.json", "--out", scores])
        #expect(score.status == 0 && FileManager.default.fileExists(atPath: scores), "\(score.output)")
        // The same seed gives the same weights.
        let again = try scratch() + "/model"
        #expect(try CLITests.run(["init", "--config", Self.tiny + "/config.json", "--out", again, "--seed", "3"]).status == 0)
        let a = try Data(contentsOf: URL(fileURLWithPath: out + "/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: again + "/model.safetensors"))
        #expect(a == b, "the same seed must give the same weights")
    }

    @Test func dtypeIsApplied() throws {
        let out = try scratch() + "/bf16"
        let r = try CLITests.run(["init", "--config", Self.tiny + "/config.json", "--out", out, "--dtype", "bfloat16"])
        #expect(r.status == 0, "\(r.output)")
        let info = try CLITests.run(["inspect", out, "--json"])
        #expect(info.output.contains("\"dtype\": \"bfloat16\""), "\(info.output)")
    }

    /// A model too large for memory is one error with the allocation torch refused and the advice, not
    /// a crash; nothing is written.
    @Test func aModelTooLargeForMemoryIsAnErrorNotACrash() throws {
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.tiny + "/config.json")))
        guard var root = config as? [String: Any], var text = root["text_config"] as? [String: Any],
              let hidden = text["hidden_size"] as? Int else {
            Issue.record("unexpected config shape")
            return
        }
        let vocab = 1_000_000_000_000
        text["vocab_size"] = vocab
        root["text_config"] = text
        let path = try CLITests.temporary("config.json", String(decoding: try JSONSerialization.data(withJSONObject: root), as: UTF8.self))
        let out = try scratch() + "/huge"
        let r = try CLITests.run(["init", "--config", path, "--out", out])
        #expect(r.status == 1, "\(r.output)")
        // The embedding [vocab, hidden] in float32 is the first tensor that cannot be allocated.
        #expect(r.output.contains("Error: out of memory in torch op ") && r.output.contains("\(vocab * hidden * 4) bytes"), "\(r.output)")
        #expect(r.output.contains("--dtype bfloat16") && !r.output.contains("Fatal error") && !r.output.contains("crashed"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func refusesANonEmptyFolderAndBadFlags() throws {
        let dir = try scratch()
        try "keep me".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let r = try CLITests.run(["init", "--config", Self.tiny + "/config.json", "--out", dir])
        #expect(r.status != 0 && r.output.contains("not empty"), "\(r.output)")
        #expect(try String(contentsOfFile: dir + "/notes.txt", encoding: .utf8) == "keep me")
        let dtype = try CLITests.run(["init", "--config", Self.tiny + "/config.json", "--out", dir + "/x", "--dtype", "int8"])
        #expect(dtype.status == 64 && dtype.output.contains("--dtype"), "\(dtype.output)")
        let std = try CLITests.run(["init", "--config", Self.tiny + "/config.json", "--out", dir + "/x", "--std", "nan"])
        #expect(std.status == 64 && std.output.contains("--std"), "\(std.output)")
        let bad = try CLITests.temporary("config.json", #"{"model_type": "llava", "text_config": {"hidden_act": "relu"}}"#)
        let cfg = try CLITests.run(["init", "--config", bad, "--out", dir + "/y"])
        #expect(cfg.status != 0 && cfg.output.contains("text_config.hidden_act"), "\(cfg.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/y") && !FileManager.default.fileExists(atPath: dir + "/y.init-tmp"))
    }
}

/// `svco init` with the image encoders' configs: folders `svco data similarity` loads strictly.
@Suite struct InitImageModelTests {
    @Test func randomSiglipAndDinov2FoldersScorePairs() throws {
        let dir = NSTemporaryDirectory() + "svco-init-img-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixtures = DataSimilarityCLITests.fixtures
        for (name, source) in [("siglip", "siglip-tiny"), ("dinov2", "dinov2-tiny")] {
            let r = try CLITests.run(["init", "--config", "\(fixtures)/\(source)/config.json", "--out", "\(dir)/\(name)", "--seed", "5"])
            #expect(r.status == 0, "\(r.output)")
            for file in ["config.json", "preprocessor_config.json", "model.safetensors"] {
                #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name)/\(file)"), "\(name): \(file) missing")
            }
        }
        let images = CLITests.root + "/demo/mvc/images"
        let files = try FileManager.default.contentsOfDirectory(atPath: images).sorted().prefix(4).map { images + "/" + $0 }
        try #"[{"images": ["\#(files[0])", "\#(files[1])"]}, {"images": ["\#(files[2])", "\#(files[3])"]}]"#
            .write(toFile: dir + "/pairs.json", atomically: true, encoding: .utf8)
        let run = try CLITests.run(["data", "similarity", "--data", dir + "/pairs.json", "--siglip", dir + "/siglip", "--dinov2", dir + "/dinov2",
                                    "--out", dir + "/scored.json"])
        #expect(run.status == 0 && run.output.contains("2 pairs scored"), "\(run.output)")
    }
}
