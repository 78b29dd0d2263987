#if canImport(Glibc)
import Glibc
#endif
import Models
import NN
import Torch
import Training

/// Swift twin of bench/models/svco_step_reference.py: one S-VCO optimiser step (policy fwd+bwd,
/// frozen reference fwd, loss, clipping, AdamW) on random weights and random ids of fixed length.
/// `gradientCheckpointing` recomputes the policy's layers in backward; `fp16` runs the forward passes
/// under float16 autocast with loss scaling, as `svco train --fp16`.
enum TrainStepBench {
    static func run(configPath: String, records: Int, textLength: Int, steps: Int, threads: Int,
                    gradientCheckpointing: Bool = false, fp16: Bool = false) throws -> [(String, Double)] {
        Torch.threads = threads
        let config = try ConfigFile.decode(LlavaConfig.self, path: configPath)
        let policy = try LlavaModel(config: config, loader: WeightLoader(randomSeed: 0))
        // As `svco train` with --fix-vit (the default): the frozen reference shares the policy's tower.
        let reference = try LlavaModel(config: config, loader: WeightLoader(randomSeed: 0), sharedVisionTower: policy.visionTower)
        reference.setTrainable(false, prefixes: [""])
        policy.setTrainable(false, prefixes: [LlavaModel.visionPrefix + "."])
        policy.gradientCheckpointing = gradientCheckpointing
        let scaler = fp16 ? GradScaler() : nil
        let optimizer = AdamW(parameters: policy.namedParameters(), settings: .init(beta1: 0.9, beta2: 0.95, weightDecay: 0.02))
        let n = config.imageFeatureCount
        let rows = 6 * records
        let g = Generator(seed: 0)
        let high = min(config.textConfig.vocabSize, config.imageTokenIndex)  // ordinary ids only
        var ids: [Int] = Tensor.randint(3, high, [rows, textLength], generator: g).toArray()
        var labels = ids
        for r in 0..<rows {
            let hasImage = r < 4 * records  // cc, rc, cr, rr rows come first
            for t in 0..<textLength {
                if hasImage && t >= 1 && t < 1 + n { ids[r * textLength + t] = config.imageTokenIndex }
                labels[r * textLength + t] = t < textLength / 2 ? -100 : ids[r * textLength + t]
            }
        }
        let size = config.visionConfig.imageSize
        let batch = SixSequenceBatch(inputIds: Tensor(ids, shape: [rows, textLength]), attentionMask: Tensor.ones([rows, textLength], dtype: .int64),
                                     labels: Tensor(labels, shape: [rows, textLength]),
                                     pixelValues: Tensor.randn([4 * records, 3, size, size], generator: g), recordCount: records)
        let loss = SVCOLoss()
        func forward<R>(_ body: () throws -> R) rethrows -> R {
            fp16 ? try Autocast.run(device: .cpu, dtype: .float16, body) : try body()
        }
        func step() throws {
            let (pi, ref) = try forward {
                (try policy.sixSequenceLogProbs(batch), try Autograd.noGrad { try reference.sixSequenceLogProbs(batch) })
            }
            let value = loss(policy: pi, reference: ref, mode: .train).loss
            (scaler?.scaled(value) ?? value).backward()
            scaler?.unscale(optimizer.presentGradients())
            _ = optimizer.clipGradients(maxNorm: 1)
            if !(scaler?.foundInf ?? false) { optimizer.step(lr: 1e-6) }
            scaler?.update()
            optimizer.zeroGradients()
        }
        try step()
        let clock = ContinuousClock()
        let elapsed = try clock.measure { for _ in 0..<steps { try step() } }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var usage = rusage()
        getrusage(0, &usage)  // 0 = RUSAGE_SELF
        return [("step_s", seconds / Double(steps)), ("peak_rss_mb", Double(usage.ru_maxrss) / 1024)]
    }
}
