#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Images
import Models
import Tokenizers
import Torch

/// A LLaVA model answering benchmark questions: the folder's chat template with the generation
/// prompt, one image placeholder per image, the folder's image processor, batched greedy (or
/// sampled) decoding, special tokens skipped in the answer.
public final class Answerer {
    public let model: any VisionLanguageModel
    let tokenizer: Tokenizer
    let template: ChatTemplate
    let processor: any ImageProcessor
    let variables: [String: JinjaValue]

    public init(modelDirectory: String, dtype: DType? = nil, device: Device = .cpu) throws {
        model = try ModelRegistry.load(directory: modelDirectory, dtype: dtype, device: device)
        tokenizer = try Tokenizer(directory: modelDirectory)
        template = try ChatTemplate.load(modelDirectory: URL(fileURLWithPath: modelDirectory))
        processor = try ImageProcessors.load(directory: modelDirectory)
        var v: [String: JinjaValue] = [:]
        if let bos = tokenizer.bosToken { v["bos_token"] = .string(bos) }
        if let eos = tokenizer.eosToken { v["eos_token"] = .string(eos) }
        variables = v
    }

    /// Prompt token ids (image tokens expanded) for one question.
    public func promptIDs(_ question: BenchmarkQuestion, withImages: Bool) throws -> [Int] {
        var content: [JinjaValue] = withImages ? question.imagePaths.map { _ in ["type": "image"] } : []
        content.append(["type": "text", "text": .string(question.prompt)])
        let rendered = try template.render(messages: [["role": "user", "content": .list(content)]], addGenerationPrompt: true,
                                           variables: variables)
        let ids = tokenizer.encode(rendered.text, addSpecialTokens: true).ids
        return ImageTokens.expand(ids: ids, labels: [], imageToken: model.config.imageTokenIndex,
                                  featureCount: model.config.imageFeatureCount).ids
    }

    /// Answers in order, `batchSize` questions per generation call.
    public func answer(_ questions: [BenchmarkQuestion], withImages: Bool, batchSize: Int, options: GenerationOptions,
                       progress: (Int) -> Void = { _ in }) throws -> [String] {
        var answers: [String] = []
        var start = 0
        var eos = options.eosTokenIds
        if let id = tokenizer.eosTokenID { eos.insert(id) }
        var opts = options
        opts.eosTokenIds = eos
        opts.padTokenId = tokenizer.padTokenID ?? model.config.textConfig.padTokenId ?? 0
        while start < questions.count {
            let end = min(questions.count, start + max(1, batchSize))
            let batch = Array(questions[start..<end])
            let prompts = try batch.map { try promptIDs($0, withImages: withImages) }
            var pixels: [Tensor] = []
            if withImages {
                for q in batch {
                    for path in q.imagePaths {
                        let p = processor.preprocess(try ImageDecoder.decode(file: path))
                        pixels.append(Tensor(p.values, shape: [1] + p.shape))
                    }
                }
            }
            let outputs = try model.generate(prompts: prompts, pixelValues: pixels.isEmpty ? nil : Tensor.cat(pixels, dim: 0), options: opts)
            answers += outputs.map { tokenizer.decode($0, skipSpecialTokens: true).trimmedWhitespace }
            start = end
            progress(end)
        }
        return answers
    }
}

extension String {
    /// Without leading and trailing whitespace and newlines (answers are compared stripped, as
    /// LLaVA's evaluation scripts strip the decoded output).
    var trimmedWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
