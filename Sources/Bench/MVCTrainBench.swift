#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Datasets
import Images
import Models
import NN
import Tokenizers
import Torch
import Training

/// The MVC-shaped training benchmark (`make bench`, scripts/bench.d/mvc-train.sh): real records collated
/// by svco (576 image tokens per image, shared prompt, short answers, the two no-image sequences), one
/// S-VCO optimiser step per record (batch 1: policy forward + backward, reference log-probs, loss,
/// clipping, AdamW) on a random LLaVA-1.5-shaped model, with the scoring levers switched on or off.
/// One configuration per process, so that peak RSS is that configuration's own.
enum MVCTrainBench {
    struct Setup {
        var modelDirectory: String
        var dataFile: String
        var records: Int
        var threads: Int
        var levers = ScoringLevers()
        /// Today's path instead of packed scoring: all rows padded to one width (`SixSequenceBatch`).
        var unpacked = false
        var precompute = false
        /// `DecoderLM.recomputesElementwiseActivations` of the policy.
        var recomputeElementwise = true
        /// Writes the collated rows of the measured records for the Python peer and stops.
        var writeBatch: String?
    }

    static func builder(_ s: Setup, config: LlavaConfig) throws -> BatchBuilder {
        let tokenizer = try Tokenizer(directory: s.modelDirectory, addEOS: true)
        let collator = try SixSequenceCollator(tokenizer: tokenizer, template: try SixSequenceCollator.svcoTrainingTemplate(for: .llava15),
                                               family: .llava15, maxLength: 128)
        return BatchBuilder(collator: collator, processor: try ImageProcessors.load(directory: s.modelDirectory), config: config,
                            padId: tokenizer.padTokenID ?? config.textConfig.padTokenId ?? 0)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    static func run(_ s: Setup) throws -> [(String, Double)] {
        Torch.threads = s.threads
        let config = try ConfigFile.decode(LlavaConfig.self, path: s.modelDirectory + "/config.json")
        let builder = try builder(s, config: config)
        // One warm-up record, then the measured ones.
        let records = Array(try MVCDataset(file: s.dataFile).records.prefix(s.records + 1))
        guard records.count == s.records + 1 else { throw TrainingError.invalidArguments("\(s.dataFile) has fewer than \(s.records + 1) records") }
        if let path = s.writeBatch { return try writeBatch(records, builder: builder, config: config, path: path) }

        let clock = ContinuousClock()
        var out: [(String, Double)] = []
        var table: ReferenceLogProbTable?
        if s.precompute {
            // As `svco train --precompute-ref-log-probs`: the reference alone, before the policy exists.
            let cache = "/tmp/svco-bench-ref-\(getpid()).bin"
            defer { unlink(cache) }
            var made: ReferenceLogProbTable?
            let elapsed = try clock.measure {
                made = try ReferencePrecompute.prepare(records: records, kinds: SequenceKind.allCases, builder: builder,
                                                       key: ReferenceCacheKey(components: ["bench": "\(getpid())"]), cachePath: cache,
                                                       batchSize: 1, levers: s.levers) {
                    try LlavaModel(config: config, loader: WeightLoader(randomSeed: 0))
                }.0
            }
            table = made
            out.append(("precompute_s_per_record", seconds(elapsed) / Double(records.count)))
        }
        let policy = try LlavaModel(config: config, loader: WeightLoader(randomSeed: 0))
        policy.setTrainable(false, prefixes: [LlavaModel.visionPrefix + "."])
        policy.languageModel.recomputesElementwiseActivations = s.recomputeElementwise
        let reference = s.precompute ? nil
            : try LlavaModel(config: config, loader: WeightLoader(randomSeed: 0), sharedVisionTower: policy.visionTower)
        reference?.setTrainable(false, prefixes: [""])
        let optimizer = AdamW(parameters: policy.namedParameters(), settings: .init(beta1: 0.9, beta2: 0.95, weightDecay: 0.02))
        let loss = SVCOLoss()

        var positions = (policy: 0, reference: 0, encodes: 0)
        func step(_ record: MVCRecord) throws {
            let pi: SixSequenceLogProbs, ref: SixSequenceLogProbs
            if s.unpacked {
                let batch = try builder.build([record])
                pi = try policy.sixSequenceLogProbs(batch)
                ref = try Autograd.noGrad { try reference?.sixSequenceLogProbs(batch) } ?? .zeros(like: pi)
                positions.policy += batch.inputIds.count
                positions.reference += reference == nil ? 0 : batch.inputIds.count
                positions.encodes += (batch.pixelValues?.size(0) ?? 0) * (reference == nil ? 1 : 2)
            } else {
                let batch = try builder.buildPacked([record], levers: s.levers)
                let scored = try PackedScoring.logProbs(batch, policy: policy, reference: reference)
                guard let scoredPolicy = scored.policy else { throw TrainingError.invalidArguments("no policy log-probs") }
                pi = scoredPolicy
                ref = try scored.reference ?? table?.logProbs(for: [record], kinds: batch.kinds, device: .cpu) ?? .zeros(like: pi)
                positions.policy += batch.plan.computedPositions
                positions.reference += reference == nil ? 0 : batch.plan.computedPositions
                let images = batch.plan.images.count
                positions.encodes += s.levers.encodeImagesOnce ? images : images * (reference == nil ? 1 : 2)
            }
            let value = loss(policy: pi, reference: ref, mode: .train).loss
            value.backward()
            _ = optimizer.clipGradients(maxNorm: 1)
            _ = value.item()  // the step's one read, as the trainer's
            optimizer.step(lr: 1e-6)
            optimizer.zeroGradients()
        }
        try step(records[0])
        positions = (0, 0, 0)
        let elapsed = try clock.measure { for r in records.dropFirst() { try step(r) } }
        var usage = rusage()
        getrusage(0, &usage)  // 0 = RUSAGE_SELF
        let n = Double(s.records)
        out += [("step_s_per_record", seconds(elapsed) / n), ("peak_rss_mb", Double(usage.ru_maxrss) / 1024),
                ("policy_positions_per_record", Double(positions.policy) / n),
                ("reference_positions_per_record", Double(positions.reference) / n),
                ("image_encodes_per_record", Double(positions.encodes) / n)]
        return out
    }

    /// The measured records' six rows (expanded ids and labels, unpadded) and images, for the Python peer.
    static func writeBatch(_ records: [MVCRecord], builder: BatchBuilder, config: LlavaConfig, path: String) throws -> [(String, Double)] {
        var tensors: [String: Tensor] = [:]
        for (i, record) in records.enumerated() {
            for kind in SequenceKind.allCases {
                let s = try builder.collator.sequence(record, kind)
                let row = ImageTokens.expand(ids: s.ids, labels: s.labels, imageToken: config.imageTokenIndex, featureCount: config.imageFeatureCount)
                tensors["r\(i).\(kind.rawValue).ids"] = Tensor(row.ids, shape: [row.ids.count])
                tensors["r\(i).\(kind.rawValue).labels"] = Tensor(row.labels, shape: [row.labels.count])
            }
            tensors["r\(i).chosen"] = try builder.pixels(record.chosenImages[0])
            tensors["r\(i).rejected"] = try builder.pixels(record.rejectedImages[0])
        }
        try SafetensorsWriter.write(tensors, to: path)
        return [("records", Double(records.count))]
    }
}
