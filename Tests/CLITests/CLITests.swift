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
