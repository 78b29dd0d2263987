#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Models
import Torch

/// Swift twin of bench/generate/reference.py: greedy generation with the KV cache on the batch the
/// reference wrote (left-padded ids, mask, one image per row), EOS switched off so every row
/// generates exactly `newTokens`; tokens per second for whole calls and for the decoding steps
/// alone (minus a one-token call's time), and how many generated ids equal the
/// reference's (same weights, same inputs: a speed-up that changes the output shows up here).
enum GenerateBench {
    enum Failure: Error, CustomStringConvertible {
        case badInputs(String)
        var description: String {
            switch self { case .badInputs(let reason): return reason }
        }
    }

    static func run(modelDirectory: String, inputsFile: String, newTokens: Int, threads: Int, repeats: Int,
                    referenceTokensFile: String?) throws -> [(String, Double)] {
        Torch.threads = threads
        let model = try LlavaModel.load(directory: modelDirectory)
        let inputs = try SafetensorsFile(path: inputsFile)
        let ids = try inputs.tensor("input_ids")
        let mask = try inputs.tensor("attention_mask")
        let pixels = try inputs.tensor("pixel_values")
        guard ids.shape.count == 2, mask.shape == ids.shape else { throw Failure.badInputs("\(inputsFile): input_ids/attention_mask shapes") }
        let width = ids.size(1)
        let flatIDs: [Int64] = ids.to(.int64).toArray()
        let flatMask: [Int64] = mask.to(.int64).toArray()
        // The reference left-pads; generate takes the unpadded rows and pads them itself.
        let prompts: [[Int]] = (0..<ids.size(0)).map { r in
            (0..<width).compactMap { c in flatMask[r * width + c] != 0 ? Int(flatIDs[r * width + c]) : nil }
        }
        var options = GenerationOptions(maxNewTokens: newTokens)
        options.eosTokenIds = []
        options.padTokenId = model.config.textConfig.padTokenId ?? 0

        var warmUp = options
        warmUp.maxNewTokens = 4
        _ = try model.generate(prompts: prompts, pixelValues: pixels, options: warmUp)
        let clock = ContinuousClock()
        var outputs: [[Int]] = []
        let total = try seconds(clock.measure {
            for _ in 0..<repeats { outputs = try model.generate(prompts: prompts, pixelValues: pixels, options: options) }
        })
        // A one-token call is the prefill (vision tower + prompt); the rest of the time is decoding.
        var first = options
        first.maxNewTokens = 1
        let prefill = try seconds(clock.measure {
            for _ in 0..<repeats { _ = try model.generate(prompts: prompts, pixelValues: pixels, options: first) }
        })
        let generated = outputs.reduce(0) { $0 + $1.count }
        var results: [(String, Double)] = [
            ("tokens_per_s", Double(generated * repeats) / total),
            ("decode_tokens_per_s", Double((generated - prompts.count) * repeats) / (total - prefill)),
            ("prefill_s", prefill / Double(repeats)),
            ("generated_tokens", Double(generated)),
        ]
        if let referenceTokensFile {
            let reference = try JSONDecoder().decode([[Int]].self, from: Data(contentsOf: URL(fileURLWithPath: referenceTokensFile)))
            // Count equal ids up to each row's first difference: after one, greedy paths diverge.
            var same = 0
            for (mine, theirs) in zip(outputs, reference) {
                same += zip(mine, theirs).prefix { $0 == $1 }.count
            }
            results.append(("same_prefix_tokens", Double(same)))
        }
        return results
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
