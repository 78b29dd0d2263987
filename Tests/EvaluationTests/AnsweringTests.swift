import Foundation
import Images
import ImageTensors
import Models
import Testing
import Torch
@testable import Evaluation

/// The one answering path of `svco generate` and `svco eval`, on the bundled demo model.
@Suite(.serialized) struct AnsweringTests {
    static let demo = TestSupport.repoRoot.appendingPathComponent("demo/tiny-llava").path
    static let image = TestSupport.repoRoot.appendingPathComponent("demo/mvc/images/blue-circle-big.png").path
    static let photo = TestSupport.repoRoot.appendingPathComponent("Tests/CLITests/Fixtures/eval-images/scene1.jpg").path

    // No `Torch.threads = 1` here: the thread count is process-wide and the other suites run
    // concurrently in this process; changing it mid-run changes their CPU reductions' order, and
    // the exact-resume tests compare bit for bit.
    static func answerer() throws -> Answerer {
        try Answerer(modelDirectory: demo)
    }

    // MARK: stop tokens as transformers' generate reads them

    /// generation_config.json when present (demo: eos 2, pad 708; interleave fixture: 308, 309).
    @Test func generationConfigFirst() throws {
        let demo = try GenerationDefaults.load(modelDirectory: Self.demo)
        #expect(demo.eosTokenIds == [2] && demo.padTokenId == 708 && demo.source.hasSuffix("generation_config.json"))
        let interleave = try GenerationDefaults.load(
            modelDirectory: TestSupport.repoRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/interleave-tiny").path)
        #expect(interleave.eosTokenIds == [308] && interleave.padTokenId == 309)
        // A list of stop tokens; no pad: finished rows get the first stop token, as generate does.
        let list = try TestSupport.folder(["generation_config.json": #"{"eos_token_id": [151645, 151643]}"#,
                                           "config.json": #"{"eos_token_id": 1, "pad_token_id": 0}"#])
        let defaults = try GenerationDefaults.load(modelDirectory: list.path)
        #expect(defaults.eosTokenIds == [151645, 151643] && defaults.padTokenId == nil && defaults.fillTokenId == 151645)
        // generation_config.json is taken as written: no eos there means no stop token, even when
        // config.json names one (from_pretrained does not fall back field by field).
        let none = try TestSupport.folder(["generation_config.json": #"{"pad_token_id": 3}"#, "config.json": #"{"eos_token_id": 1}"#])
        #expect(try GenerationDefaults.load(modelDirectory: none.path).eosTokenIds.isEmpty)
    }

    /// No generation_config.json: GenerationConfig.from_model_config — config.json's top-level
    /// values, text_config's where the top level leaves them unset (null counts as unset).
    @Test func modelConfigWithTextConfigFallback() throws {
        let text = try TestSupport.folder(["config.json": #"{"text_config": {"eos_token_id": 5, "pad_token_id": 6}}"#])
        #expect(try GenerationDefaults.load(modelDirectory: text.path) == GenerationDefaults(eosTokenIds: [5], padTokenId: 6,
                                                                                             source: text.path + "/config.json"))
        let top = try TestSupport.folder(["config.json": #"{"eos_token_id": 7, "pad_token_id": null, "text_config": {"eos_token_id": 5, "pad_token_id": 6}}"#])
        let both = try GenerationDefaults.load(modelDirectory: top.path)
        #expect(both.eosTokenIds == [7] && both.padTokenId == 6)
    }

    @Test func badConfigNamesFileAndField() throws {
        let bad = try TestSupport.folder(["generation_config.json": #"{"eos_token_id": "two"}"#])
        #expect {
            try GenerationDefaults.load(modelDirectory: bad.path)
        } throws: { "\($0)".contains("generation_config.json") && "\($0)".contains("eos_token_id") }
        let missing = try TestSupport.folder([:])
        #expect { try GenerationDefaults.load(modelDirectory: missing.path) } throws: { "\($0)".contains("config.json") }
    }

    // MARK: the answering path

    @Test func streamedPiecesAddUpToTheBatchedAnswer() throws {
        let answerer = try Self.answerer()
        let request = AnswerRequest(text: "What is in the image?", images: [Self.image], label: "q")
        let settings = AnswerSettings(maxNewTokens: 12)
        var pieces: [String] = []
        let streamed = try answerer.stream(request, settings: settings) { pieces.append($0) }
        let batched = try answerer.answer([request, AnswerRequest(text: "Describe it.", images: [Self.photo], label: "r")],
                                          batchSize: 2, settings: settings)
        #expect(pieces.joined() == streamed && streamed == batched[0])
        #expect(!pieces.isEmpty)
        // The stop set is the model folder's, not the tokenizer's or the caller's.
        let options = try answerer.generationOptions(prompts: [try answerer.promptIDs(request)], labels: ["q"], settings: settings) { _ in }
        #expect(options.eosTokenIds == [2] && options.padTokenId == 708 && options.maxNewTokens == 12)
    }

    /// The demo model has 256 positions: new tokens are lowered to what the prompt leaves (with a
    /// note), and a prompt that fills them is refused by name.
    @Test func newTokensAreCappedAtTheContext() throws {
        let answerer = try Self.answerer()
        #expect(answerer.contextLength == 256)
        let request = AnswerRequest(text: String(repeating: "red ", count: 40), images: [Self.image], label: "long one")
        let prompt = try answerer.promptIDs(request)
        #expect(prompt.count > 60 && prompt.count < 200)
        var notes: [String] = []
        let options = try answerer.generationOptions(prompts: [prompt], labels: ["long one"], settings: AnswerSettings(maxNewTokens: 500)) {
            notes.append($0)
        }
        #expect(options.maxNewTokens == 256 - prompt.count)
        #expect(notes.count == 1 && notes[0].contains("long one") && notes[0].contains("max_position_embeddings"))
        // Runs to the capped length (the demo model rarely says EOS) without leaving its positions.
        _ = try answerer.answer([request], batchSize: 1, settings: AnswerSettings(maxNewTokens: 500))

        let tooLong = AnswerRequest(text: String(repeating: "red ", count: 300), label: "huge")
        #expect(throws: EvaluationError.promptTooLong(request: "huge", tokens: try answerer.promptIDs(tooLong).count, context: 256)) {
            try answerer.stream(tooLong, settings: AnswerSettings()) { _ in }
        }
    }

    @Test func placeholdersMustMatchTheImages() throws {
        let answerer = try Self.answerer()
        let request = AnswerRequest(text: "<image> and", images: [Self.image], label: "doubled")
        #expect(throws: EvaluationError.imagePlaceholders(request: "doubled", placeholders: 2, images: 1)) {
            try answerer.promptIDs(request)
        }
    }

    // MARK: images into tensors

    @Test func pixelValuesStackEveryImage() throws {
        let processor = try ImageProcessors.load(directory: Self.demo)
        let pixels = try #require(try Tensor.pixelValues(files: [Self.image, Self.photo], processor: processor))
        let one = try processor.preprocess(file: Self.image), two = try processor.preprocess(file: Self.photo)
        #expect(pixels.shape == [2] + one.shape && pixels.dtype == .float32)
        #expect(pixels.toArray() as [Float] == one.values + two.values)
        #expect(try Tensor.pixelValues(files: [], processor: processor) == nil)
        var raw = processor
        raw.doResize = false
        raw.doCenterCrop = false
        // Without resizing, a 32×32 PNG and a 48×36 JPEG cannot share a batch.
        #expect(throws: ImageError.inconsistentSizes(file: Self.photo, shape: [3, 36, 48], expected: [3, 32, 32])) {
            try Tensor.pixelValues(files: [Self.image, Self.photo], processor: raw)
        }
    }
}
