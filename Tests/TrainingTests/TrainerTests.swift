import Foundation
import Testing
@testable import Datasets
@testable import Images
@testable import Models
@testable import NN
@testable import Tokenizers
@testable import Torch
@testable import Training

/// Trainer invariants on the bundled demo model and pairs (demo/).
@Suite(.serialized) struct TrainerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let modelDir = root + "/demo/tiny-llava"

    static func folder(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "svco-trainer-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func trainer(_ configure: (inout TrainingArguments) -> Void, output: String, records: Int = 8, evalRecords: Int = 0,
                        sharedTower: Bool = false, trainSet: [MVCRecord]? = nil, resume: Bool = false) throws -> SVCOTrainer {
        var args = TrainingArguments()
        args.outputDir = output
        args.learningRate = 1e-3
        args.dataOrder = .sequential
        args.evalSteps = 0
        args.saveSteps = 0
        args.warmupRatio = 0
        args.lrSchedulerType = .constant
        configure(&args)
        let policy = try LlavaModel.load(directory: modelDir, dtype: .float32)
        let reference = try LlavaModel.load(directory: modelDir, dtype: .float32, sharedVisionTower: sharedTower ? policy.visionTower : nil)
        let tokenizer = try Tokenizer(directory: modelDir, addEOS: true)
        let collator = try SixSequenceCollator(tokenizer: tokenizer, template: try ChatTemplate.load(modelDirectory: URL(fileURLWithPath: modelDir)),
                                               family: .llava15, maxLength: args.modelMaxLength)
        let builder = BatchBuilder(collator: collator, processor: try ImageProcessors.load(directory: modelDir),
                                   config: policy.config, padId: tokenizer.padTokenID ?? 0)
        let train = try trainSet ?? Array(MVCDataset(file: root + "/demo/mvc/train.json").records.prefix(records))
        let eval = Array(try MVCDataset(file: root + "/demo/mvc/eval.json").records.prefix(evalRecords))
        return try SVCOTrainer(args: args, modelDirectory: modelDir, policy: policy, reference: reference, builder: builder,
                               train: train, eval: eval, loss: SVCOLoss(betas: args.betas), resume: resume)
    }

    static func weights(_ t: SVCOTrainer) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (name, p) in t.policy.namedParameters() where p.trainable { out[name] = p.value.toArray(Float.self) }
        return out
    }

    /// Largest |a − b| over all trainable parameters' values (or gradients).
    static func maxDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
        var worst: Float = a.count == b.count ? 0 : .infinity
        for (name, values) in a {
            guard let other = b[name], other.count == values.count else { return .infinity }
            for (x, y) in zip(values, other) { worst = max(worst, abs(x - y)) }
        }
        return worst
    }

    static func gradients(_ t: SVCOTrainer) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (name, p) in t.policy.namedParameters() where p.trainable { out[name] = p.value.grad?.toArray(Float.self) ?? [] }
        return out
    }

    /// One batch of 2 records and two accumulated micro-batches of 1 give the same gradient.
    @Test func gradientAccumulationEqualsTheLargerBatch() throws {
        let big = try Self.trainer({ $0.perDeviceTrainBatchSize = 2 }, output: Self.folder("big"), records: 2)
        let batch = try big.builder.build(big.trainRecords)
        let (pi, ref) = try big.logProbs(batch)
        big.loss(policy: pi, reference: ref, mode: .train).loss.backward()

        let small = try Self.trainer({ $0.perDeviceTrainBatchSize = 1 }, output: Self.folder("acc"), records: 2)
        for record in small.trainRecords {
            let (p1, r1) = try small.logProbs(try small.builder.build([record]))
            (small.loss(policy: p1, reference: r1, mode: .train).loss / 2.0).backward()
        }
        let a = Self.gradients(big), b = Self.gradients(small)
        let scale = a.values.flatMap { $0 }.map(abs).max() ?? 0
        #expect(scale > 0)
        #expect(Self.maxDifference(a, b) <= 1e-5 * max(1, scale), "max gradient difference \(Self.maxDifference(a, b))")
    }

    /// The trainer's own accumulation (2 micro-batches of 1) equals one batch of 2, step for step.
    @Test func trainerAccumulationMatchesBatchedStep() throws {
        let big = try Self.trainer({ $0.perDeviceTrainBatchSize = 2; $0.gradientAccumulationSteps = 1; $0.maxSteps = 1
            $0.learningRate = 0.0 }, output: Self.folder("big2"), records: 2)
        try big.train()
        let acc = try Self.trainer({ $0.perDeviceTrainBatchSize = 1; $0.gradientAccumulationSteps = 2; $0.maxSteps = 1
            $0.learningRate = 0.0 }, output: Self.folder("acc2"), records: 2)
        try acc.train()
        #expect(big.globalStep == 1 && acc.globalStep == 1 && acc.microBatches == 2)
        // With lr 0 the weights stay put, but Adam's moments hold the (clipped) gradient: m = (1 − β1) g.
        let m1 = big.optimizer.stateDict(), m2 = acc.optimizer.stateDict()
        var worst: Float = 0
        for (k, v) in m1 where k.hasSuffix(".exp_avg") {
            guard let other = m2[k] else { continue }
            let x: [Float] = v.toArray(), y: [Float] = other.toArray()
            for (p, q) in zip(x, y) { worst = max(worst, abs(p - q)) }
        }
        #expect(worst < 1e-6, "max moment difference \(worst)")
    }

    @Test func referenceSharingTheFrozenTowerTrainsIdentically() throws {
        func configure(_ a: inout TrainingArguments) {
            a.perDeviceTrainBatchSize = 2
            a.maxSteps = 3
        }
        let copy = try Self.trainer(configure, output: Self.folder("copy"))
        try copy.train()
        let shared = try Self.trainer(configure, output: Self.folder("shared"), sharedTower: true)
        try shared.train()
        #expect(Self.maxDifference(Self.weights(shared), Self.weights(copy)) == 0)
        #expect(Self.maxDifference(Self.weights(shared), Self.weights(try Self.trainer(configure, output: Self.folder("fresh")))) > 0)
        // A tower that trains cannot be shared with the frozen reference.
        #expect(throws: TrainingError.self) {
            try Self.trainer({ configure(&$0); $0.fixVit = false }, output: Self.folder("refused"), sharedTower: true)
        }
    }

    @Test func resumedRunEqualsUninterruptedBitForBit() throws {
        func configure(_ a: inout TrainingArguments) {
            a.perDeviceTrainBatchSize = 2
            a.gradientAccumulationSteps = 2
            a.maxSteps = 3
            a.lrSchedulerType = .cosine
            a.warmupSteps = 1
            a.dataOrder = .shuffle
        }
        let full = try Self.trainer(configure, output: Self.folder("full"))
        try full.train()

        let dir = Self.folder("interrupted")
        let first = try Self.trainer(configure, output: dir)
        try first.train(stopAfterStep: 2)
        let checkpoint = try first.saveCheckpoint()
        #expect(SVCOTrainer.latestCheckpoint(in: dir) == checkpoint)
        let resumed = try Self.trainer(configure, output: dir)
        try resumed.resume(from: checkpoint)
        #expect(resumed.globalStep == 2 && resumed.microBatches == 4)
        try resumed.train()
        #expect(resumed.globalStep == 3)
        #expect(Self.maxDifference(Self.weights(resumed), Self.weights(full)) == 0)
        #expect(Self.maxDifference(Self.weights(resumed), Self.weights(first)) > 0)
    }

    /// `--offload-optimizer-device cpu`: AdamW's moments in host memory, streamed through the device at
    /// each step. The update is the same kernel on the same values, so the run is bitwise the one
    /// without offload — weights and saved optimizer state — and a checkpoint of either resumes the
    /// other (the state file does not record where the moments lived).
    @Test func offloadedMomentsGiveTheSameRunBitForBit() throws {
        func configure(_ offload: Bool) -> (inout TrainingArguments) -> Void {
            { a in
                a.perDeviceTrainBatchSize = 2
                a.maxSteps = 3
                a.weightDecay = 0.02
                a.offloadOptimizerDevice = offload ? .cpu : .none
            }
        }
        let (plainDir, offloadedDir) = (Self.folder("plain"), Self.folder("offloaded"))
        let plain = try Self.trainer(configure(false), output: plainDir)
        try plain.train(stopAfterStep: 2)
        let plainCheckpoint = try plain.saveCheckpoint()
        try plain.train()
        let offloaded = try Self.trainer(configure(true), output: offloadedDir)
        #expect(offloaded.optimizer.adamW?.settings.offloadMoments == true && plain.optimizer.adamW?.settings.offloadMoments == false)
        try offloaded.train(stopAfterStep: 2)
        let offloadedCheckpoint = try offloaded.saveCheckpoint()
        try offloaded.train()
        #expect(Self.maxDifference(Self.weights(offloaded), Self.weights(plain)) == 0)
        let states = try [plainCheckpoint, offloadedCheckpoint].map { try Data(contentsOf: URL(fileURLWithPath: $0 + "/optimizer.safetensors")) }
        #expect(states[0] == states[1], "the saved optimizer state differs")
        // The plain run's checkpoint, resumed with offload, ends where both ended.
        let resumed = try Self.trainer(configure(true), output: Self.folder("resumed-offloaded"))
        try resumed.resume(from: plainCheckpoint)
        try resumed.train()
        #expect(resumed.globalStep == 3)
        #expect(Self.maxDifference(Self.weights(resumed), Self.weights(plain)) == 0)
    }

    /// The memory check before training: the gradients one process will hold are 4 bytes per trained
    /// value (hand-counted from demo/tiny-llava's config: Llama h 64, I 128, 2 layers, 2 of 4 heads
    /// for k/v, vocabulary 768, untied; projector 64 → 64 → 64 with biases; the tower frozen); the
    /// verdict compares them with what the device has left.
    @Test func theMemoryPreflightCountsTheGradients() throws {
        let (h, i, layers, kv, vocab, d) = (64, 128, 2, 2 * 16, 768, 64)
        let perLayer = 2 * h * h + 2 * h * kv + 3 * h * i + 2 * h
        let trained = layers * perLayer + h + 2 * vocab * h + (d * h + h + h * h + h)
        let t = try Self.trainer({ _ in }, output: Self.folder("preflight"))
        #expect(t.optimizer.gradientBytes == 4 * trained)
        #expect(MemoryPreflight.problem(gradientBytes: 27_060_000_000, allocated: 58_460_000_000, total: 85_520_000_000, device: "cuda:0") == nil)
        #expect(MemoryPreflight.problem(gradientBytes: 27_060_000_000, allocated: 61_480_000_000, total: 85_520_000_000, device: "cuda:0")
            == "not enough memory on cuda:0 to train: the gradients need 27.1 GB (float32, this rank's share), but after the models "
            + "and the optimizer state (61.5 GB allocated of 85.5 GB) only 24.0 GB are left, before any activations. Nothing was trained.")
    }

    @Test func nonFiniteLossStopsAndKeepsTheLastCheckpoint() throws {
        let dir = Self.folder("nan")
        let t = try Self.trainer({ $0.perDeviceTrainBatchSize = 2; $0.gradientAccumulationSteps = 1; $0.maxSteps = 1 }, output: dir)
        try t.train()
        let checkpoint = try t.saveCheckpoint()
        let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint + "/model.safetensors"))
        let resumed = try Self.trainer({ $0.perDeviceTrainBatchSize = 2; $0.gradientAccumulationSteps = 1; $0.maxSteps = 3; $0.saveSteps = 1 },
                                       output: dir)
        try resumed.resume(from: checkpoint)
        if let p = resumed.policy.namedParameters().first(where: { $0.name == "multi_modal_projector.linear_2.bias" })?.parameter {
            Autograd.noGrad { p.value.fill_(Scalar(Double.nan)) }
        }
        #expect {
            try resumed.train()
        } throws: { error in
            "\(error)" == "the loss became NaN or infinite at step 2; stopped without saving. The last good checkpoint is \(checkpoint)."
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: checkpoint + "/model.safetensors")) == before)
        #expect(SVCOTrainer.latestCheckpoint(in: dir) == checkpoint)
    }

    @Test func metricsAreLoggedWithTheReferenceNames() throws {
        let dir = Self.folder("metrics")
        let t = try Self.trainer({ $0.perDeviceTrainBatchSize = 2; $0.gradientAccumulationSteps = 1; $0.maxSteps = 2; $0.loggingSteps = 1 },
                                 output: dir, evalRecords: 2)
        try t.train()
        let lines = try MetricsLog.read(path: dir + "/metrics.jsonl")
        #expect(lines.count == 2)
        let first = lines[0]
        #expect(first["step"] == 1 && first["learning_rate"] == 1e-3)
        // At step 1 the policy equals the reference: every reward is 0 and each term is log 2.
        #expect(abs((first["loss"] ?? 0) - 4 * log(2.0)) < 1e-5)
        #expect(first["train_rewards/rewards_img_chosen_res_chosen"] == 0)
        #expect(abs((first["train_losses/img_win_vs_no_img_loss"] ?? 0) - log(2.0)) < 1e-6)
        for key in ["grad_norm", "epoch"] { #expect(first[key] != nil, "\(key)") }
        // Every key of the S-VCO reference trainer (s-vco trainer.py, get_batch_metrics), written out
        // here by hand from that file, with HF Trainer's train_/eval_ prefixes.
        let terms = ["img_win_vs_no_img", "no_img_vs_img_lose", "img_lose_vs_no_img", "no_img_vs_img_win"]
        let sequences = ["img_chosen_res_chosen", "img_rejected_res_chosen", "img_chosen_res_rejected",
                         "img_rejected_res_rejected", "no_img_res_chosen", "no_img_res_rejected"]
        func referenceKeys(_ prefix: String) -> Set<String> {
            Set(terms.map { "\(prefix)_losses/\($0)_loss" } + terms.map { "\(prefix)_reward_acc/\($0)_reward_accuracies" }
                + terms.map { "\(prefix)_reward_margin/\($0)_reward_margins" }
                + terms.map { "\(prefix)_pi_logratios/pi_logratios_\($0)_distance" }
                + sequences.map { "\(prefix)_rewards/rewards_\($0)" } + sequences.map { "\(prefix)_logps/policy_logps_\($0)" })
        }
        #expect(Set(first.keys.filter { $0.hasPrefix("train_") }) == referenceKeys("train"))
        #expect(Set(first.keys).subtracting(referenceKeys("train")) == ["step", "epoch", "learning_rate", "grad_norm", "loss"])
        let evaluation = try t.evaluate()
        #expect(Set(evaluation.keys) == referenceKeys("eval").union(["eval_loss"]))
    }
}

extension TrainerTests {
    /// mDPO runs through the trainer: the corrupted sequences are built, scored and logged, and a
    /// resumed run crops the same windows (weights equal bit for bit).
    @Test func mdpoTrainsAndResumesExactly() throws {
        func make(_ dir: String) throws -> SVCOTrainer {
            var args = TrainingArguments()
            args.outputDir = dir
            args.learningRate = 1e-3
            args.lrSchedulerType = .constant
            args.warmupRatio = 0
            args.perDeviceTrainBatchSize = 2
            args.gradientAccumulationSteps = 1
            args.maxSteps = 2
            args.evalSteps = 0
            args.saveSteps = 0
            let base = try Self.trainer({ $0 = args }, output: dir)
            return try SVCOTrainer(args: args, modelDirectory: Self.modelDir, policy: base.policy, reference: base.reference,
                                   builder: base.builder, train: base.trainRecords, eval: [], loss: MDPOLoss(beta: 0.1), resume: false)
        }
        let full = try make(Self.folder("mdpo-full"))
        try full.train()
        let line = try MetricsLog.read(path: full.args.outputDir + "/metrics.jsonl").first ?? [:]
        #expect(line["train_rewards/imageless_accuracies"] != nil && line["train_losses/anchor_loss"] != nil)
        let dir = Self.folder("mdpo-resume")
        let first = try make(dir)
        try first.train(stopAfterStep: 1)
        let checkpoint = try first.saveCheckpoint()
        let resumed = try make(dir)
        try resumed.resume(from: checkpoint)
        try resumed.train()
        #expect(Self.maxDifference(Self.weights(resumed), Self.weights(full)) == 0)
    }
}
