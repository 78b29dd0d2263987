import ArgumentParser
import Models
import Torch

/// `svco inspect MODEL_DIR`: what a model folder holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a LLaVA model folder's family, dtype and parameter counts.")

    @Argument(help: "A Hugging Face model folder (config.json + safetensors weights).")
    var modelDir: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let modelDir = try resolveModel(self.modelDir)
        let model = try ModelRegistry.load(directory: modelDir)
        let counts = model.parameterCounts
        if json {
            let fields = counts.map { "\"\($0.component)\": \($0.count)" }.joined(separator: ", ")
            print("{\"family\": \"\(model.familyName)\", \"dtype\": \"\(model.dtype)\", \"image_tokens\": \(model.config.imageFeatureCount), \"parameters\": {\(fields)}}")
            return
        }
        print("model     \(modelDir)")
        print("family    \(model.familyName)")
        print("dtype     \(model.dtype)")
        print("image     \(model.config.imageSize) px → \(model.config.imageFeatureCount) tokens")
        for (component, count) in counts {
            print("\(component.padding(to: 22)) \(formatCount(count))")
        }
    }
}

func formatCount(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, ch) in s.reversed().enumerated() {
        if i > 0 && i % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return String(out.reversed())
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
