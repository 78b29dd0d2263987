import ArgumentParser
import Datasets
import Images
import Models
import Tokenizers
import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco generate`: answer one prompt (with images) from a LLaVA model folder.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Answer a prompt about images with a LLaVA model (chat template applied, special tokens skipped).")

    @Option(help: "A Hugging Face LLaVA model folder (config, weights, tokenizer, chat template, preprocessor config).")
    var model: String

    @Option(help: "An image to show the model (repeat for several).")
    var image: [String] = []

    @Option(help: "The user's message.")
    var prompt: String

    @Option(help: "Tokens to generate at most.")
    var maxNewTokens = 128

    @Option(help: "0 decodes greedily; otherwise sample at this temperature.")
    var temperature = 0.0

    @Option(help: "Nucleus sampling threshold (1 = off).")
    var topP = 1.0

    @Option(help: "Seed for sampling.")
    var seed: UInt64 = 0

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1") }
        if temperature < 0 { throw ValidationError("--temperature must not be negative") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        try runtime.validate()
    }

    func run() throws {
        let device = try runtime.apply()
        let model = try resolveModel(self.model)
        let llava = try LlavaModel.load(directory: model, dtype: runtime.parsedDType, device: device)
        let tokenizer = try Tokenizer(directory: model)
        let template = try ChatTemplate.load(modelDirectory: URL(fileURLWithPath: model))
        var content: [JinjaValue] = image.map { _ in ["type": "image"] }
        content.append(["type": "text", "text": .string(prompt)])
        var variables: [String: JinjaValue] = [:]
        if let bos = tokenizer.bosToken { variables["bos_token"] = .string(bos) }
        if let eos = tokenizer.eosToken { variables["eos_token"] = .string(eos) }
        let rendered = try template.render(messages: [["role": "user", "content": .list(content)]], addGenerationPrompt: true,
                                           variables: variables)
        let ids = tokenizer.encode(rendered.text, addSpecialTokens: true).ids
        let placeholders = ImageTokens.count(in: ids, imageToken: llava.config.imageTokenIndex)
        guard placeholders == image.count else {
            throw CLIError("the prompt holds \(placeholders) image placeholder(s) after templating but \(image.count) --image were given")
        }
        let expanded = ImageTokens.expand(ids: ids, labels: [], imageToken: llava.config.imageTokenIndex,
                                          featureCount: llava.config.imageFeatureCount).ids
        var pixels: Tensor?
        if !image.isEmpty {
            let processor = try ImageProcessors.load(directory: model)
            let processed = try image.map { path -> Tensor in
                let p = processor.preprocess(try ImageDecoder.decode(file: path))
                return Tensor(p.values, shape: [1] + p.shape)
            }
            pixels = Tensor.cat(processed, dim: 0)
        }
        var eos: Set<Int> = []
        if let id = tokenizer.eosTokenID { eos.insert(id) }
        if let id = llava.config.textConfig.eosTokenId { eos.insert(id) }
        let options = GenerationOptions(maxNewTokens: maxNewTokens, temperature: temperature, topP: topP, eosTokenIds: eos,
                                        padTokenId: tokenizer.padTokenID ?? llava.config.textConfig.padTokenId ?? 0, seed: seed)
        let output = try llava.generate(prompts: [expanded], pixelValues: pixels, options: options)
        print(tokenizer.decode(output.first ?? [], skipSpecialTokens: true))
    }
}

/// Device, dtype and thread options shared by the commands that run a model.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "cpu, cuda or cuda:N.")
    var device = "cpu"

    @Option(help: "Weights dtype: float32, bfloat16 or float16 (default: as stored).")
    var dtype: String?

    @Option(help: "CPU threads for libtorch (default: torch's choice).")
    var threads: Int?

    var parsedDType: DType? { dtype.flatMap(DType.init(name:)) }

    func validate() throws {
        guard let d = Device(name: device) else { throw ValidationError("--device '\(device)' is not cpu, cuda or cuda:N") }
        if d.isCUDA && !Torch.cudaIsAvailable {
            throw ValidationError("--device \(device): CUDA is not available (\(Torch.cudaLoadError ?? "no GPU visible"))")
        }
        if let dtype {
            guard let t = DType(name: dtype), t.isFloatingPoint else {
                throw ValidationError("--dtype '\(dtype)' is not float32, bfloat16 or float16")
            }
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Applies the thread count and returns the device.
    func apply() throws -> Device {
        if let threads { Torch.threads = threads }
        return Device(name: device) ?? .cpu
    }
}
