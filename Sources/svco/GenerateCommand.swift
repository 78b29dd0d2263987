import ArgumentParser
import Evaluation
import Torch
#if canImport(Glibc)
import Glibc
#endif

/// `svco generate`: answer one prompt (with images) from a LLaVA model folder, printing the
/// answer as it is generated.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Answer a prompt about images with a LLaVA model (chat template applied, special tokens skipped).",
        discussion: """
            The answer is printed as it is generated. It stops at the model's stop tokens (eos_token_id of \
            generation_config.json, else config.json, as transformers' generate) or after --max-new-tokens, which \
            is lowered (with a note on stderr) when the prompt leaves less of the model's context \
            (max_position_embeddings). `svco eval` answers through the same path.
            """)

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

    @Flag(help: "After the answer, print the generated token ids as one line `token_ids [id, ...]` (the stop token included when one ended the answer).")
    var printTokenIds = false

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        try FlagCheck.atLeast(maxNewTokens, 1, "--max-new-tokens")
        try FlagCheck.finite(temperature, "--temperature", "≥ 0") { $0 >= 0 }
        try FlagCheck.finite(topP, "--top-p", "in (0, 1]") { $0 > 0 && $0 <= 1 }
        try runtime.validate()
    }

    func run() throws {
        MemoryAdvice.set(MemoryAdvice.weights)
        let device = try runtime.apply()
        let model = try resolveModel(self.model)
        let answerer = try Answerer(modelDirectory: model, dtype: runtime.parsedDType, device: device)
        let settings = AnswerSettings(maxNewTokens: maxNewTokens, temperature: temperature, topP: topP, seed: seed)
        let request = AnswerRequest(text: prompt, images: image, label: "--prompt")
        var tokens: [Int] = []
        _ = try answerer.stream(request, settings: settings, note: { printError($0) }, onToken: { tokens.append($0) }) { piece in
            print(piece, terminator: "")
            fflush(nil)  // each piece as it comes, also when stdout is a pipe (nil: every stream)
        }
        print("")
        // For comparing runs (CPU vs GPU) token by token; the text alone can hide a difference.
        if printTokenIds { print("token_ids [" + tokens.map(String.init).joined(separator: ", ") + "]") }
    }
}
