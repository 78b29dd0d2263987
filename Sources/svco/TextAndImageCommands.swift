import ArgumentParser
import Images
import ImageTensors
import Tokenizers
import Torch
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco tokenize`: JSON lines in, JSON lines out, with a model folder's tokenizer.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode JSON strings from stdin to id arrays (or decode with --decode), one per line.",
        discussion: """
            Each input line is a JSON string ("Hello world"); each output line the JSON array of ids.
            With --decode, input lines are JSON arrays of ids and output lines JSON strings.
            """)

    @Option(help: "A Hugging Face model or tokenizer folder (tokenizer.json, tokenizer_config.json, …).")
    var model: String

    @Flag(help: "Read and write JSON lines (the only format; accepted for clarity).")
    var jsonl = false

    @Flag(help: "Do not add BOS/EOS (encode) / keep special tokens (decode: they are skipped by default).")
    var noSpecialTokens = false

    @Flag(help: "Decode id arrays to text instead of encoding.")
    var decode = false

    func run() throws {
        let model = try resolveModel(self.model)
        let tokenizer = try Tokenizer(directory: model)
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        var lineNumber = 0
        while let line = readLine(strippingNewline: true) {
            lineNumber += 1
            if line.isEmpty { continue }
            do {
                if decode {
                    let ids = try decoder.decode([Int].self, from: Data(line.utf8))
                    let text = tokenizer.decode(ids, skipSpecialTokens: !noSpecialTokens)
                    print(String(decoding: try encoder.encode(text), as: UTF8.self))
                } else {
                    let text = try decoder.decode(String.self, from: Data(line.utf8))
                    let ids = tokenizer.encode(text, addSpecialTokens: !noSpecialTokens).ids
                    print("[" + ids.map(String.init).joined(separator: ",") + "]")
                }
                // One answer per input line as it comes, also when stdout is a pipe.
                fflush(nil)  // nil flushes every output stream (stdout is not concurrency-safe to name)
            } catch is DecodingError {
                throw CLIError("stdin line \(lineNumber): expected \(decode ? "a JSON array of token ids" : "a JSON string")")
            }
        }
    }
}

/// `svco preprocess`: one image through a model folder's image processor, saved as safetensors.
struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Preprocess an image as the model's HF image processor does; write pixel_values [1,3,H,W] f32.")

    @Option(help: "A Hugging Face model folder with preprocessor_config.json.")
    var model: String

    @Option(help: "The image (JPEG, PNG or WebP).")
    var image: String

    @Option(help: "Output .safetensors file (written atomically).")
    var out: String

    func run() throws {
        let model = try resolveModel(self.model)
        let processor = try ImageProcessors.load(directory: model)
        let pixels = Tensor(pixels: try processor.preprocess(file: image))
        try SafetensorsWriter.write(["pixel_values": pixels], metadata: ["format": "pt"], to: out)
        print("\(out): pixel_values \(pixels.shape) float32")
    }
}
