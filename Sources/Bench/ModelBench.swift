#if canImport(Glibc)
import Glibc
#endif
import Models
import NN
import Torch

/// Swift twin of bench/models/reference.py: forward + per-sequence log-probs + backward of a random
/// LLaVA-shaped model, tokens per second and peak resident memory.
enum ModelBench {
    static func run(configPath: String, batch: Int, textLength: Int, steps: Int, threads: Int) throws -> [(String, Double)] {
        Torch.threads = threads
        let config = try ConfigFile.decode(LlavaConfig.self, path: configPath)
        let model = try LlavaModel(config: config, loader: WeightLoader(randomSeed: 0))
        let n = config.imageFeatureCount
        let g = Generator(seed: 0)
        let ids = Tensor.randint(3, 31000, [batch, textLength], generator: g)
        let isImage = Tensor.arange(0, Scalar(textLength)).ge(1).logicalAnd(Tensor.arange(0, Scalar(textLength)).lt(Scalar(1 + n)))
        let input = ids.maskedFill(isImage.unsqueeze(0).expand(batch, textLength), Scalar(config.imageTokenIndex))
        let labels = input.maskedFill(Tensor.arange(0, Scalar(textLength)).lt(Scalar(1 + n)).unsqueeze(0).expand(batch, textLength), -100)
        let size = config.visionConfig.imageSize
        let pixels = Tensor.randn([batch, 3, size, size], generator: g)
        let mask = Tensor.ones([batch, textLength], dtype: .int64)

        func step() throws {
            let logits = try model.forward(inputIds: input, attentionMask: mask, pixelValues: pixels)
            SequenceLogProbs.compute(logits: logits, labels: labels).sum().neg().backward()
            for (_, p) in model.namedParameters() { p.value.zeroGrad() }
        }
        try step()  // warm-up
        let clock = ContinuousClock()
        let elapsed = try clock.measure { for _ in 0..<steps { try step() } }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var usage = rusage()
        getrusage(0, &usage)  // 0 = RUSAGE_SELF
        return [("tokens_per_s", Double(batch * textLength * steps) / seconds), ("peak_rss_mb", Double(usage.ru_maxrss) / 1024)]
    }
}
