import Foundation
import Testing
@testable import Datasets
@testable import Images
@testable import Models
@testable import NN
@testable import Tokenizers
@testable import Torch
@testable import Training

/// `--fp16`: the loss scaler's arithmetic, and S-VCO steps under float16 autocast with dynamic loss
/// scaling against torch (Fixtures/make_fp16_reference.py: torch.autocast + torch.amp.GradScaler on
/// the policy/ fixture and the batch of ReferenceStepTests).
@Suite struct MixedPrecisionTests {
    static let fixtures = ReferenceStepTests.fixtures

    struct Reference: Decodable {
        struct Step: Decodable {
            var loss: Double
            var scale_before: Double
            var scale_after: Double
            var found_inf: Double
            var grad_norm: Double?
        }
        var steps: [Step]
        var policy_logps: [Double]
        var reference_logps: [Double]
        var growth_tracker_after: Int
    }

    static func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: fixtures + "/fp16_reference.json")))
    }

    /// The trainer of ReferenceStepTests (policy/ vs demo/tiny-llava, 2 records, batch 2, lr 1e-3
    /// constant, betas of reference.json), one micro-batch per step, so every step sees the same batch.
    static func trainer(fp16: Bool, output: String, dtype: DType = .float32, configure: (inout TrainingArguments) -> Void = { _ in }) throws -> SVCOTrainer {
        let betas = [0.1, 0.2, 0.0, 0.5]
        var args = TrainingArguments()
        args.outputDir = output
        args.betas = betas
        args.learningRate = 1e-3
        args.lrSchedulerType = .constant
        args.warmupRatio = 0
        args.perDeviceTrainBatchSize = 2
        args.gradientAccumulationSteps = 1
        args.maxSteps = 2
        args.dataOrder = .sequential
        args.evalSteps = 0
        args.saveSteps = 0
        args.fp16 = fp16
        configure(&args)
        let policyDir = fixtures + "/policy"
        let policy = try LlavaModel.load(directory: policyDir, dtype: dtype)
        let frozen = try LlavaModel.load(directory: TrainerTests.root + "/demo/tiny-llava", dtype: .float32)
        let tokenizer = try Tokenizer(directory: policyDir, addEOS: true)
        let collator = try SixSequenceCollator(tokenizer: tokenizer, template: try ChatTemplate.load(modelDirectory: URL(fileURLWithPath: policyDir)),
                                               family: .llava15, maxLength: 128)
        let builder = BatchBuilder(collator: collator, processor: try ImageProcessors.load(directory: policyDir), config: policy.config,
                                   padId: tokenizer.padTokenID ?? 0)
        let records = Array(try MVCDataset(file: TrainerTests.root + "/demo/mvc/eval.json").records.prefix(2))
        let trainer = try SVCOTrainer(args: args, modelDirectory: policyDir, policy: policy, reference: frozen, builder: builder,
                                      train: records, eval: [], loss: SVCOLoss(betas: betas), resume: false)
        // As make_fp16_reference.py: GradScaler defaults but an initial scale of 2¹⁷, where this batch's
        // float16 backward overflows (at the default 2¹⁶ it stays just under the limit).
        trainer.scaler?.load(GradScaler.State(scale: initialScale))
        return trainer
    }

    /// The fixture's initial loss scale (2¹⁷).
    static let initialScale = 131072.0

    static func parameters(_ t: SVCOTrainer) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: t.policy.namedParameters().map { ($0.name, $0.parameter.value) })
    }

    /// max |a − b| / max |b|
    static func relativeToMax(_ a: Tensor, _ b: Tensor) -> Double {
        (a.to(.float64) - b.to(.float64)).abs().max().item().doubleValue / max(1e-12, b.abs().max().item().doubleValue)
    }

    // MARK: the scaler alone, hand-derived

    @Test func scalerGrowsAfterTheIntervalAndBacksOffOnInf() {
        let scaler = GradScaler(state: .init(scale: 8, growthInterval: 3))
        #expect(scaler.scale == 8 && scaler.state.growthTracker == 0)
        expectScalar(scaler.scaled(Tensor([1.5]).to(.float32).sum()), 12)
        for expected in [(8.0, 1), (8.0, 2), (16.0, 0), (16.0, 1)] {
            let grads = [Tensor([3.0, -6]).to(.float32)]
            scaler.unscale(grads)
            #expect(!scaler.foundInf)
            #expect(grads[0].toArray(Float.self) == [Float(3.0 / scaler.scale), Float(-6.0 / scaler.scale)])
            scaler.update()
            #expect(scaler.scale == expected.0 && scaler.state.growthTracker == expected.1, "\(scaler.state)")
        }
        // An inf or NaN anywhere: the step is to be skipped, the scale halves, the count restarts.
        scaler.unscale([Tensor([1.0]).to(.float32), Tensor([1.0, .nan]).to(.float32)])
        #expect(scaler.foundInf)
        scaler.update()
        #expect(scaler.scale == 8 && scaler.state.growthTracker == 0 && !scaler.foundInf)
        // The defaults are torch.amp.GradScaler's.
        #expect(GradScaler().state == GradScaler.State(scale: 65536, growthTracker: 0, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000))
    }

    @Test func scalerStateRoundTripsThroughJSON() throws {
        let state = GradScaler.State(scale: 32768, growthTracker: 17)
        let json = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        #expect(json.contains("\"growth_tracker\":17") && json.contains("\"growth_interval\":2000"))
        #expect(try JSONDecoder().decode(GradScaler.State.self, from: Data(json.utf8)) == state)
        let scaler = GradScaler()
        scaler.load(state)
        #expect(scaler.state == state)
    }

    // MARK: against torch

    /// The unscaled float16-autocast gradients equal torch's (same mechanics) and the float32 gradients
    /// within float16 precision: torch's own fp16-vs-fp32 spread on these tensors is ≤ 1.1e-3 of the
    /// largest element (fp16_reference.json, spread_vs_fp32); svco's measured ≤ 8.6e-4 from torch's
    /// fp16 gradients and ≤ 1.2e-3 from the fp32 ones.
    @Test func unscaledGradientsMatchTorchAndFloat32() throws {
        let t = try Self.trainer(fp16: true, output: TrainerTests.folder("fp16-grads"))
        let scaler = GradScaler(state: .init(scale: 32768))
        let batch = try t.builder.build(t.trainRecords)
        let (pi, ref) = try t.forwardPrecision { try t.logProbs(batch) }
        let expected = try Self.reference()
        let piAll = Tensor.cat(pi.named.map(\.value)), refAll = Tensor.cat(ref.named.map(\.value))
        // Measured: 3.6e-6 from torch's fp16 log-probs (which lie 5.6e-4 from the fp32 ones).
        #expect(maxDifference(piAll, Tensor(expected.policy_logps)) < 1e-4, "policy logps \(piAll.toArray(Double.self))")
        #expect(maxDifference(refAll, Tensor(expected.reference_logps)) < 1e-4)
        let loss = t.loss(policy: pi, reference: ref, mode: .train).loss
        #expect(abs(loss.item().doubleValue - expected.steps[1].loss) < 1e-4)
        scaler.scaled(loss).backward()
        scaler.unscale(t.optimizer.presentGradients())
        #expect(!scaler.foundInf)
        let torchFP16 = try SafetensorsFile(path: Self.fixtures + "/fp16_step.safetensors")
        let torchFP32 = try SafetensorsFile(path: Self.fixtures + "/grads.safetensors")
        let params = Self.parameters(t)
        for name in torchFP32.names {
            guard let grad = params[name]?.grad else {
                Issue.record("no gradient for \(name)")
                continue
            }
            let vsFP16 = Self.relativeToMax(grad, try torchFP16.tensor("grad." + name))
            let vsFP32 = Self.relativeToMax(grad, try torchFP32.tensor(name))
            #expect(vsFP16 < 2e-3, "\(name): \(vsFP16) of the largest element from torch's fp16 gradient")
            #expect(vsFP32 < 3e-3, "\(name): \(vsFP32) of the largest element from the fp32 gradient")
        }
    }

    /// Two trainer steps on the same batch, as torch runs them: at the initial scale 2¹⁷ the scaled
    /// float16 backward overflows, so step 1 is skipped (weights and optimiser untouched, scale halved,
    /// the loss is finite so training goes on); step 2 at 2¹⁶ is taken and lands on torch's parameters.
    @Test func fp16StepsMatchTorchAutocastAndGradScaler() throws {
        let expected = try Self.reference()
        #expect(expected.steps.count == 2 && expected.steps[0].found_inf == 1 && expected.steps[1].found_inf == 0)
        let dir = TrainerTests.folder("fp16-steps")
        let t = try Self.trainer(fp16: true, output: dir)
        let before = TrainerTests.weights(t)
        try t.train(stopAfterStep: 1)
        #expect(t.globalStep == 1 && t.skippedSteps == 1 && t.scaler?.scale == 65536)
        #expect(TrainerTests.maxDifference(TrainerTests.weights(t), before) == 0)
        #expect(t.optimizer.stateDict().filter { $0.key.hasSuffix(".step") }.allSatisfy { $0.value.item().doubleValue == 0 })
        try t.train()
        #expect(t.globalStep == 2 && t.skippedSteps == 1 && t.scaler?.scale == 65536)
        #expect(t.scaler?.state.growthTracker == expected.growth_tracker_after)

        let log = try MetricsLog.read(path: dir + "/metrics.jsonl")
        #expect(log.count == 2)
        #expect(log.first?["grad_norm"] == nil, "a skipped step's norm is not finite (null)")
        #expect(abs((log.first?["loss"] ?? 0) - expected.steps[0].loss) < 1e-4)
        let norm = log.last?["grad_norm"] ?? .nan, torchNorm = expected.steps[1].grad_norm ?? .nan
        #expect(abs(norm - torchNorm) <= 1e-4 * torchNorm, "grad_norm \(norm) vs torch \(torchNorm)")

        // After the step every element moved by about ±lr: equal to torch's where the gradient's sign
        // agrees (a flipped sign puts it 2·lr away); torch's own fp16 step differs from its fp32 step in
        // up to 0.7% of a tensor's elements. Measured: max 1.4e-5, at most 0.44% of elements over 1e-6.
        let after = try SafetensorsFile(path: Self.fixtures + "/fp16_step.safetensors")
        let params = Self.parameters(t)
        for name in after.names where name.hasPrefix("after.") {
            let key = String(name.dropFirst("after.".count))
            guard let p = params[key] else {
                Issue.record("no parameter \(key)")
                continue
            }
            let diff = (p.to(.float64) - (try after.tensor(name)).to(.float64)).abs()
            #expect(diff.max().item().doubleValue <= 2.1e-3, "\(key)")
            let loose = diff.gt(1e-6).sum().item().intValue
            #expect(loose * 100 <= diff.count, "\(key): \(loose) of \(diff.count) elements differ from torch by more than 1e-6")
        }
    }

    /// A skipped step does not advance the learning-rate schedule (HF/accelerate skip the scheduler
    /// step too), and a checkpoint carries the scaler: the resumed run equals the uninterrupted one.
    @Test func resumeRestoresTheScaleAndTheHeldSchedule() throws {
        func configure(_ a: inout TrainingArguments) {
            a.maxSteps = 3
            a.lrSchedulerType = .cosine
            a.warmupSteps = 1
        }
        let fullDir = TrainerTests.folder("fp16-full")
        let full = try Self.trainer(fp16: true, output: fullDir, configure: configure)
        try full.train()
        let lines = try MetricsLog.read(path: fullDir + "/metrics.jsonl")
        // Step 1 skipped: the schedule is still at step 0 (warm-up: rate 0) and so on one behind.
        let schedule = full.schedule
        #expect(lines.map { $0["learning_rate"] ?? -1 } == [schedule.rate(step: 0), schedule.rate(step: 1), schedule.rate(step: 2)])

        let dir = TrainerTests.folder("fp16-resume")
        let first = try Self.trainer(fp16: true, output: dir, configure: configure)
        try first.train(stopAfterStep: 1)
        let checkpoint = try first.saveCheckpoint()
        let state = String(decoding: try Data(contentsOf: URL(fileURLWithPath: checkpoint + "/trainer_state.json")), as: UTF8.self)
        #expect(state.contains("\"grad_scaler\"") && state.contains("\"skipped_steps\":1"), "\(state)")
        let resumed = try Self.trainer(fp16: true, output: dir, configure: configure)
        #expect(resumed.scaler?.scale == Self.initialScale)
        try resumed.resume(from: checkpoint)
        #expect(resumed.scaler?.scale == Self.initialScale / 2 && resumed.skippedSteps == 1 && resumed.globalStep == 1)
        try resumed.train()
        #expect(resumed.scaler?.state == full.scaler?.state)
        #expect(TrainerTests.maxDifference(TrainerTests.weights(resumed), TrainerTests.weights(full)) == 0)
    }

    // MARK: --bf16

    struct BF16Reference: Decodable {
        var loss: Double
        var grad_norm: Double
        var policy_logps: [Double]
        var reference_logps: [Double]
    }

    /// `--bf16` as HF Trainer: bfloat16 autocast over float32 weights, no scaler. Torch's bf16 step lies
    /// 3.2e-3 (log-probs), 6.3e-4 (loss) and 1.4e-3 relative (grad_norm) from its fp32 step
    /// (bf16_reference.json); svco's measured distance to torch's bf16 step: 3.5e-6 (log-probs), 2.6e-7
    /// (loss), 9.1e-5 relative (grad_norm).
    @Test func bf16StepMatchesTorchAutocast() throws {
        let expected = try JSONDecoder().decode(BF16Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/bf16_reference.json")))
        let dir = TrainerTests.folder("bf16-step")
        let t = try Self.trainer(fp16: false, output: dir) { $0.bf16 = true; $0.maxSteps = 1 }
        #expect(t.scaler == nil)
        let batch = try t.builder.build(t.trainRecords)
        let (pi, ref) = try t.forwardPrecision { try t.logProbs(batch) }
        let piAll = Tensor.cat(pi.named.map(\.value)), refAll = Tensor.cat(ref.named.map(\.value))
        #expect(maxDifference(piAll, Tensor(expected.policy_logps)) < 1e-4, "policy logps \(maxDifference(piAll, Tensor(expected.policy_logps)))")
        #expect(maxDifference(refAll, Tensor(expected.reference_logps)) < 1e-4)
        try t.train()
        let line = try MetricsLog.read(path: dir + "/metrics.jsonl").first ?? [:]
        let norm = line["grad_norm"] ?? .nan
        #expect(abs((line["loss"] ?? .nan) - expected.loss) < 1e-5, "loss \(line["loss"] ?? .nan) vs \(expected.loss)")
        #expect(abs(norm - expected.grad_norm) <= 3e-4 * expected.grad_norm, "grad_norm \(norm) vs \(expected.grad_norm)")
        #expect(t.policy.namedParameters().allSatisfy { $0.parameter.value.dtype == .float32 })
    }

    /// With float32 master weights an update of the paper's size (lr 1e-6) lands on every element that
    /// has a gradient; with the weights themselves in bfloat16 it would round away almost everywhere.
    @Test func bf16UpdatesAtThePapersLearningRateLand() throws {
        let t = try Self.trainer(fp16: false, output: TrainerTests.folder("bf16-lr")) { $0.bf16 = true; $0.maxSteps = 1; $0.learningRate = 1e-6 }
        let name = "language_model.model.layers.1.mlp.down_proj.weight"
        guard let p = t.policy.namedParameters().first(where: { $0.name == name })?.parameter else {
            Issue.record("no \(name)")
            return
        }
        let before = p.value.detach().clone()
        try t.train()
        let moved = p.value.ne(before).to(.float64).mean().item().doubleValue
        #expect(moved > 0.99, "\(moved) of the elements moved")
        let roundedAway = p.value.to(.bfloat16).ne(before.to(.bfloat16)).to(.float64).mean().item().doubleValue
        #expect(roundedAway < 0.1, "in bfloat16 \(roundedAway) of the elements would have moved")
    }

    @Test func fp16NeedsFloat32WeightsAndExcludesBF16() throws {
        #expect {
            _ = try Self.trainer(fp16: true, output: TrainerTests.folder("fp16-bf16")) { $0.bf16 = true }
        } throws: { "\($0)" == "fp16 and bf16 cannot both be on" }
        #expect {
            _ = try Self.trainer(fp16: true, output: TrainerTests.folder("fp16-half"), dtype: .float16)
        } throws: { "\($0)" == "fp16 training needs the model in float32 (it autocasts to float16); it is float16" }
    }
}

private func expectScalar(_ t: Tensor, _ value: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(t.item().doubleValue == value, "\(t.item().doubleValue) != \(value)", sourceLocation: sourceLocation)
}
