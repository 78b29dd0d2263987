import ArgumentParser
import Models
import NN
import Torch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `svco init`: a model folder with random weights in the shape a config.json describes — for smoke
/// tests and benchmarks at full size without downloading weights (e.g. the 7B configs in configs/).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a randomly initialised model folder from a config.json.",
        discussion: """
            Weights are drawn from a seeded normal(0, --std) (norm weights 1 + normal, biases normal), the \
            same weights for the same --seed; the folder holds config.json and safetensors in the published \
            layout. --tokenizer-from copies the tokenizer, chat template and processor files of another \
            folder, so that the result can be trained and evaluated.

            Example: svco init --config configs/llava-hf/llava-1.5-7b-hf/config.json --out /tmp/llava7b --dtype bfloat16

            A SigLIP or DINOv2 config (model_type siglip, siglip_vision_model or dinov2) makes an image model \
            folder for `svco data similarity`, with the preprocessor_config.json that sits beside the config.
            """)

    @Option(help: "A LLaVA config.json, or a SigLIP / DINOv2 one (configs/image-encoders).") var config: String
    @Option(help: "The folder to create (must not exist, or be empty).") var out: String
    @Option(help: "Weights dtype: float32, bfloat16 or float16.") var dtype = "float32"
    @Option(help: "Seed of the random weights.") var seed: UInt64 = 0
    @Option(help: "Standard deviation of the random weights (transformers' initializer_range).") var std = 0.02
    @Option(help: "Copy tokenizer/template/processor files from this folder.") var tokenizerFrom: String?

    /// Files besides weights and config that make a folder usable by `svco train`/`eval`.
    static let companionFiles = [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
        "chat_template.json", "chat_template.jinja", "preprocessor_config.json", "processor_config.json",
        "generation_config.json",
    ]

    func validate() throws {
        guard let t = DType(name: dtype), t.isFloatingPoint else {
            throw ValidationError("--dtype '\(dtype)' is not float32, bfloat16 or float16")
        }
        guard std.isFinite, std > 0 else { throw ValidationError("--std must be a positive finite number, got \(std)") }
    }

    func run() throws {
        MemoryAdvice.set(MemoryAdvice.weights)
        let fm = FileManager.default
        if fm.fileExists(atPath: out), let entries = try? fm.contentsOfDirectory(atPath: out), !entries.isEmpty {
            throw CLIError("--out \(out): the folder exists and is not empty")
        }
        if let imageModel = try ImageEmbeddingModels.type(configFile: config) {
            return try initImageModel(imageModel)
        }
        let modelConfig = try ConfigFile.decode(LlavaConfig.self, path: config)
        if let tokenizerFrom, !fm.fileExists(atPath: SafetensorsCheckpoint.join(tokenizerFrom, "tokenizer_config.json")) {
            throw CLIError("--tokenizer-from \(tokenizerFrom): no tokenizer_config.json there")
        }
        let weightsType = DType(name: dtype) ?? .float32
        let model = try LlavaModel(config: modelConfig, loader: WeightLoader(randomSeed: seed, std: std, dtype: weightsType))
        // Work in a sibling folder and rename at the end, so a failed run leaves nothing half-written.
        let staging = out.hasSuffix("/") ? String(out.dropLast()) + ".init-tmp" : out + ".init-tmp"
        try? fm.removeItem(atPath: staging)
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try copy(config, to: SafetensorsCheckpoint.join(staging, "config.json"))
            try model.save(directory: staging, configSource: staging)
            if let tokenizerFrom {
                for name in Self.companionFiles where fm.fileExists(atPath: SafetensorsCheckpoint.join(tokenizerFrom, name)) {
                    try copy(SafetensorsCheckpoint.join(tokenizerFrom, name), to: SafetensorsCheckpoint.join(staging, name))
                }
            }
            if fm.fileExists(atPath: out) { try fm.removeItem(atPath: out) }
            try fm.moveItem(atPath: staging, toPath: out)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        let total = model.parameterCount()
        print("wrote \(out): \(model.familyName), \(formatCount(total)) parameters in \(weightsType)")
    }

    /// A SigLIP or DINOv2 folder (`svco data similarity`'s models): config.json, the weights, and the
    /// preprocessor_config.json found beside the config (configs/image-encoders has both).
    private func initImageModel(_ type: any ImageEmbeddingModel.Type) throws {
        let fm = FileManager.default
        let weightsType = DType(name: dtype) ?? .float32
        let model = try type.init(configFile: config, loader: WeightLoader(randomSeed: seed, std: std, dtype: weightsType))
        let processor = SafetensorsCheckpoint.join(URL(fileURLWithPath: config).deletingLastPathComponent().path, "preprocessor_config.json")
        let staging = out.hasSuffix("/") ? String(out.dropLast()) + ".init-tmp" : out + ".init-tmp"
        try? fm.removeItem(atPath: staging)
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try copy(config, to: SafetensorsCheckpoint.join(staging, "config.json"))
            if fm.fileExists(atPath: processor) { try copy(processor, to: SafetensorsCheckpoint.join(staging, "preprocessor_config.json")) }
            try SafetensorsWriter.write(model.stateDict(), to: SafetensorsCheckpoint.join(staging, "model.safetensors"))
            if fm.fileExists(atPath: out) { try fm.removeItem(atPath: out) }
            try fm.moveItem(atPath: staging, toPath: out)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        print("wrote \(out): \(type.modelTypes[0]) image model, \(formatCount(model.parameterCount())) parameters in \(weightsType)")
    }

    private func copy(_ from: String, to: String) throws {
        do {
            try FileManager.default.copyItem(atPath: from, toPath: to)
        } catch {
            throw CLIError("cannot copy \(from) to \(to)")
        }
    }
}
