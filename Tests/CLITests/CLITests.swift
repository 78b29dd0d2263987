import Foundation
import Testing

/// The `svco` executable on bad input: one clear error naming the file and the field, a non-zero
/// exit, nothing half-written. Runs the binary SwiftPM built beside the tests (or $SVCO_BINARY).
@Suite struct CLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["SVCO_BINARY"] { return path }
        // The test bundle sits in the build products folder, beside the svco executable.
        let products = Bundle.main.bundleURL.deletingLastPathComponent().path
        for candidate in [products + "/svco", root + "/.build/debug/svco"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return root + "/.build/debug/svco"
    }

    struct Run {
        var status: Int32
        var output: String
    }

    static func run(_ arguments: [String], stdin: String? = nil) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    static func temporary(_ name: String, _ contents: String) throws -> String {
        let dir = NSTemporaryDirectory() + "svco-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "build the svco product first: \(Self.binary)")
    }

    @Test func unknownFlagIsAUsageError() throws {
        let r = try Self.run(["train", "--model-name-or-path", "m", "--dataset-path", "d", "--output-dir", "o", "--no-such-flag"])
        #expect(r.status == 64 && r.output.contains("Unknown option '--no-such-flag'"))
    }

    @Test func missingModelFolderNamesTheFile() throws {
        let r = try Self.run(["inspect", "/nonexistent/model"])
        #expect(r.status == 1 && r.output.contains("Error: /nonexistent/model/config.json: no such file"))
    }

    @Test func malformedDatasetNamesRecordAndKeyAndWritesNothing() throws {
        let data = try Self.temporary("mvc.json", #"[{"instruction_prompt": "Q", "chosen_images": ["a.png"], "rejected_images": ["b.png"], "chosen_response": "A"}]"#)
        let out = data + ".out"
        let r = try Self.run(["train", "--model-name-or-path", "demo/tiny-llava", "--dataset-path", data, "--output-dir", out, "--max-steps", "1"])
        #expect(r.status == 1)
        #expect(r.output.contains("\(data): record 0: key 'rejected_response': is missing"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: out + "/model.safetensors"))
    }

    @Test func configFileErrorsNameFileAndLine() throws {
        let config = try Self.temporary("run.yaml", "learning_rate: 1e-3\nnested:\n")
        let r = try Self.run(["train", "--config", config])
        #expect(r.status != 0 && r.output.contains("\(config): line 2: key 'nested' has no value"))
    }

    @Test func tokenizeRejectsANonJSONLine() throws {
        let r = try Self.run(["tokenize", "--model", "demo/tiny-llava"], stdin: "\"ok\"\nnot json\n")
        #expect(r.status == 1 && r.output.contains("stdin line 2: expected a JSON string"))
        #expect(r.output.hasPrefix("["))  // the good first line was answered
    }

    @Test func corruptImageIsNamedAndNoOutputIsLeft() throws {
        let image = try Self.temporary("broken.png", "\u{89}PNG\r\n\u{1A}\nnot really a png")
        let out = image + ".safetensors"
        let r = try Self.run(["preprocess", "--model", "demo/tiny-llava", "--image", image, "--out", out])
        #expect(r.status == 1 && r.output.contains(image))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func dataCheckReportsMissingImages() throws {
        let data = try Self.temporary("mvc.json", #"[{"instruction_prompt": "Where?", "chosen_images": ["missing.png"], "rejected_images": ["missing2.png"], "chosen_response": "Left.", "rejected_response": "Right."}]"#)
        let r = try Self.run(["data", "check", "--model", "demo/tiny-llava", "--data", data])
        #expect(r.status == 1 && r.output.contains("unreadable images: 2") && r.output.contains("missing.png"), "\(r.output)")
    }

    @Test func tokenizeMatchesTheReferenceIDs() throws {
        // demo/expected.json: "Where is the triangle?" inside the cc sequence; here the plain encode
        // of a short string with BOS, checked against the tokenizer's own round trip.
        let r = try Self.run(["tokenize", "--model", "demo/tiny-llava"], stdin: "\"The triangle is on the left.\"\n")
        #expect(r.status == 0)
        let back = try Self.run(["tokenize", "--model", "demo/tiny-llava", "--decode"], stdin: r.output)
        #expect(back.output == "\"The triangle is on the left.\"\n")
    }
}

/// `svco eval` end to end on the bundled demo model with an MMVP-format release folder made here
/// (the fixture Questions.csv, demo images under the names MMVP uses). Scores are meaningless; the
/// pipeline and its files are real.
@Suite struct EvalCLITests {
    @Test func mmvpWithAndWithoutImages() throws {
        let root = CLITests.root
        let data = NSTemporaryDirectory() + "svco-eval-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let images = data + "/MMVP Images"
        try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: root + "/Tests/EvaluationTests/Fixtures/mmvp/Questions.csv", toPath: data + "/Questions.csv")
        let pool = try FileManager.default.contentsOfDirectory(atPath: root + "/demo/mvc/images").sorted()
        for i in 1...12 {  // PNG bytes under .jpg names: the decoder goes by content, as Pillow does
            try FileManager.default.copyItem(atPath: root + "/demo/mvc/images/" + pool[i], toPath: images + "/\(i).jpg")
        }
        let out = data + "/out"
        let common = ["eval", "--model", "demo/tiny-llava", "--benchmark", "mmvp", "--data-root", data, "--output-dir", out,
                      "--limit", "3", "--max-new-tokens", "4", "--batch-size", "3"]
        let with = try CLITests.run(common)
        #expect(with.status == 0, "\(with.output)")
        let lines = try String(contentsOfFile: out + "/mmvp.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)  // --limit 3 rounds up to two whole pairs
        let row = try JSONDecoder().decode([String: String].self, from: Data(lines[0].utf8))
        #expect(row["id"] != nil && row["answer"] == "(a)" && row["prompt"]?.contains("Answer with the option's letter") == true)
        let without = try CLITests.run(common + ["--no-image"])
        #expect(without.status == 0, "\(without.output)")
        let summary = try JSONDecoder().decode([String: [String: Double]].self, from: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
        for key in ["mmvp", "mmvp_no_image"] {
            let accuracy = summary[key]?["accuracy"] ?? -1
            #expect((0...1).contains(accuracy) && summary[key]?["paired_accuracy"] != nil, "\(key)")
        }
        let gap = (summary["mmvp"]?["accuracy"] ?? 0) - (summary["mmvp_no_image"]?["accuracy"] ?? 0)
        #expect(summary["mmvp_image_gap"]?["accuracy"] == gap)
        #expect(FileManager.default.fileExists(atPath: out + "/mmvp.txt"))

        // A release folder without its images is refused before any answer is written.
        try FileManager.default.removeItem(atPath: images + "/2.jpg")
        let missing = try CLITests.run(["eval", "--model", "demo/tiny-llava", "--benchmark", "mmvp", "--data-root", data,
                                        "--output-dir", data + "/out2", "--limit", "2"])
        #expect(missing.status == 1 && missing.output.contains("mmvp: 1 image file(s) named by the questions are missing"), "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: data + "/out2/mmvp.jsonl"))
    }
}

@Suite struct PlotCLITests {
    @Test func trainThenPlot() throws {
        let out = NSTemporaryDirectory() + "svco-plot-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let train = try CLITests.run(["train", "--model-name-or-path", "demo/tiny-llava", "--dataset-path", "demo/mvc/train.json",
                                      "--eval-dataset-path", "demo/mvc/eval.json", "--output-dir", out, "--max-steps", "4",
                                      "--eval-steps", "2", "--save-steps", "0", "--per-device-train-batch-size", "2",
                                      "--per-device-eval-batch-size", "16", "--gradient-accumulation-steps", "1"])
        #expect(train.status == 0, "\(train.output)")
        let plot = try CLITests.run(["plot", out])
        #expect(plot.status == 0 && plot.output.contains("reward_accuracy.png"), "\(plot.output)")
        for name in ["loss.png", "reward_accuracy.png"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))
            #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) && bytes.count > 1000, "\(name)")
        }
        let empty = try CLITests.run(["plot", out + "/nothing"])
        #expect(empty.status == 1 && empty.output.contains("metrics.jsonl"))
    }
}
