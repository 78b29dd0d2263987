#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Images
import ImageTensors
import Models
import Tokenizers
import Torch

/// One thing to answer: the user's text and the images shown with it.
public struct AnswerRequest: Sendable, Equatable {
    public var text: String
    /// Image files, one placeholder each in the rendered prompt.
    public var images: [String]
    /// Names the request in errors and notes ("mmvp 12", "the prompt").
    public var label: String

    public init(text: String, images: [String] = [], label: String) {
        self.text = text
        self.images = images
        self.label = label
    }
}

/// How to decode: the flags of `svco generate` and `svco eval`. The stop and pad tokens are not
/// here: they come from the model folder (``GenerationDefaults``).
public struct AnswerSettings: Sendable, Equatable {
    /// New tokens at most (lowered to what the model's context leaves, with a note).
    public var maxNewTokens: Int
    /// 0 decodes greedily; otherwise logits are divided by it before sampling.
    public var temperature: Double
    /// Nucleus sampling threshold (1 = off).
    public var topP: Double
    public var seed: UInt64

    public init(maxNewTokens: Int = 128, temperature: Double = 0, topP: Double = 1, seed: UInt64 = 0) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
    }
}

/// A LLaVA model folder answering questions — the one answering path of `svco generate` and
/// `svco eval`: the folder's chat template with the generation prompt and the tokenizer's special
/// tokens as variables (``Tokenizer/templateVariables``), one image placeholder per image, the
/// folder's image processor, transformers' stop tokens (``GenerationDefaults``), new tokens capped
/// at the model's context, special tokens skipped in the answer.
public final class Answerer {
    public let model: any VisionLanguageModel
    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let processor: ImageProcessor
    public let defaults: GenerationDefaults

    public init(modelDirectory: String, dtype: DType? = nil, device: Device = .cpu) throws {
        model = try ModelRegistry.load(directory: modelDirectory, dtype: dtype, device: device)
        tokenizer = try Tokenizer(directory: modelDirectory)
        template = try ChatTemplate.load(modelDirectory: URL(fileURLWithPath: modelDirectory), tokenizerConfig: tokenizer.config)
        processor = try ImageProcessors.load(directory: modelDirectory)
        defaults = try GenerationDefaults.load(modelDirectory: modelDirectory)
    }

    /// Positions the model has (`max_position_embeddings`): prompt and answer must fit in them.
    public var contextLength: Int { model.config.textConfig.maxPositionEmbeddings }

    /// The prompt's token ids with each image placeholder expanded to the image's feature count.
    public func promptIDs(_ request: AnswerRequest) throws -> [Int] {
        var content: [JinjaValue] = request.images.map { _ in ["type": "image"] }
        content.append(["type": "text", "text": .string(request.text)])
        let rendered = try template.render(messages: [["role": "user", "content": .list(content)]], addGenerationPrompt: true,
                                           variables: tokenizer.templateVariables)
        let ids = tokenizer.encode(rendered.text, addSpecialTokens: true).ids
        let imageToken = model.config.imageTokenIndex
        let placeholders = ImageTokens.count(in: ids, imageToken: imageToken)
        guard placeholders == request.images.count else {
            throw EvaluationError.imagePlaceholders(request: request.label, placeholders: placeholders, images: request.images.count)
        }
        return ImageTokens.expand(ids: ids, labels: [], imageToken: imageToken, featureCount: model.config.imageFeatureCount).ids
    }

    /// The generation options for a batch of prompts: `settings` with the model's stop and pad
    /// tokens, new tokens lowered so the longest prompt plus its answer fits the context (`note`
    /// says so). A prompt that alone fills the context is an error naming it.
    public func generationOptions(prompts: [[Int]], labels: [String], settings: AnswerSettings,
                        note: (String) -> Void) throws -> GenerationOptions {
        var longest = 0
        for (i, prompt) in prompts.enumerated() where prompt.count >= contextLength {
            throw EvaluationError.promptTooLong(request: labels[i], tokens: prompt.count, context: contextLength)
        }
        for prompt in prompts { longest = max(longest, prompt.count) }
        var maxNew = settings.maxNewTokens
        if longest + maxNew > contextLength {
            maxNew = contextLength - longest
            note("note: \(labels.count == 1 ? labels[0] : "a batch") takes \(longest) of the model's \(contextLength) positions "
                + "(max_position_embeddings): generating at most \(maxNew) new tokens instead of \(settings.maxNewTokens)")
        }
        // Rows are left-padded with this id and finished rows fed it; both are masked or dropped,
        // so any id the embedding table holds will do.
        let vocabulary = model.config.textConfig.vocabSize
        let fill = [defaults.fillTokenId, tokenizer.padTokenID].compactMap { $0 }.first { (0..<vocabulary).contains($0) } ?? 0
        return GenerationOptions(maxNewTokens: maxNew, temperature: settings.temperature, topP: settings.topP,
                                 eosTokenIds: Set(defaults.eosTokenIds), padTokenId: fill, seed: settings.seed)
    }

    /// Answers `requests` in order, `batchSize` per generation call; each answer is the decoded
    /// new tokens with special tokens skipped (not trimmed).
    public func answer(_ requests: [AnswerRequest], batchSize: Int, settings: AnswerSettings,
                       note: (String) -> Void = { _ in }, progress: (Int) -> Void = { _ in }) throws -> [String] {
        var answers: [String] = []
        var start = 0
        while start < requests.count {
            let end = min(requests.count, start + max(1, batchSize))
            let batch = Array(requests[start..<end])
            let prompts = try batch.map(promptIDs)
            let options = try generationOptions(prompts: prompts, labels: batch.map(\.label), settings: settings, note: note)
            let pixels = try Tensor.pixelValues(files: batch.flatMap(\.images), processor: processor)
            let outputs = try model.generate(prompts: prompts, pixelValues: pixels, options: options)
            answers += outputs.map { tokenizer.decode($0, skipSpecialTokens: true) }
            start = end
            progress(end)
        }
        return answers
    }

    /// Answers one request, handing `onText` each piece of the answer as soon as it is final
    /// (whole UTF-8 characters only); returns the whole answer, equal to what ``answer(_:batchSize:settings:note:progress:)``
    /// gives for it.
    /// `onToken` sees every generated token id (the stop token included when one ends the answer).
    public func stream(_ request: AnswerRequest, settings: AnswerSettings, note: (String) -> Void = { _ in },
                       onToken: (Int) -> Void = { _ in }, onText: (String) -> Void) throws -> String {
        let prompt = try promptIDs(request)
        let options = try generationOptions(prompts: [prompt], labels: [request.label], settings: settings, note: note)
        let pixels = try Tensor.pixelValues(files: request.images, processor: processor)
        var text = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true)
        var answer = ""
        _ = try model.generate(prompts: [prompt], pixelValues: pixels, options: options) { _, token in
            onToken(token)
            let piece = text.append(token)
            if !piece.isEmpty {
                answer += piece
                onText(piece)
            }
        }
        let rest = text.finish()
        if !rest.isEmpty {
            answer += rest
            onText(rest)
        }
        return answer
    }
}
