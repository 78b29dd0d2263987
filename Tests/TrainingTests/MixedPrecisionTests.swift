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

    // MARK: precision, against float32 computed in the same run and torch's float32 fixture
    //
    // fp16/bf16 results depend on the CPU's kernels (an AMD EPYC and an Intel Xeon round float16 matmuls
    // differently), so nothing here compares them with a number one machine printed. Tolerances come
    // from the formats' unit roundoff — u = 2⁻¹¹ for float16, 2⁻⁸ for bfloat16 — and the size of the
    // sums, against float32 results that agree across CPUs (torch's fixture, or svco's own fp32 pass
    // in the same run); the same-run comparison also checks that each format shows its own precision.

    /// Unit roundoff of float16 and bfloat16.
    static let u16 = 0x1p-11, uBF16 = 0x1p-8

    enum Precision { case fp32, fp16, bf16 }

    /// Log-probs and unscaled gradients of the fixture batch in a trainer's forward precision (its
    /// `--fp16`/`--bf16` autocast, as a training step runs it).
    static func logProbsAndGradients(_ precision: Precision) throws -> (logps: Tensor, loss: Double, grads: [String: Tensor]) {
        let t = try trainer(fp16: precision == .fp16, output: TrainerTests.folder("precision")) { $0.bf16 = precision == .bf16 }
        let batch = try t.builder.build(t.trainRecords)
        let (pi, ref) = try t.forwardPrecision { try t.logProbs(batch) }
        let loss = t.loss(policy: pi, reference: ref, mode: .train).loss
        // Scaled as the trainer scales under --fp16 (the float16 backward would underflow otherwise).
        let scale = precision == .fp16 ? 32768.0 : 1
        (loss * scale).backward()
        var grads: [String: Tensor] = [:]
        for (name, p) in t.policy.namedParameters() { if let g = p.value.grad { grads[name] = g.to(.float64) / scale } }
        return (Tensor.cat(pi.named.map(\.value) + ref.named.map(\.value)).to(.float64), loss.item().doubleValue, grads)
    }

    /// Each format's error against float32 in the same run is its own: not zero (autocast ran) and, for
    /// float16, under half of bfloat16's (float16 keeps 3 more significand bits, 8× finer rounding; half
    /// leaves a 4× margin). A forward without autocast, or a cast to the wrong 16-bit format, fails here
    /// on any CPU. Against torch's float32 fixture each stays within its format's bounds:
    /// - a log-prob (a sum over the row's scored tokens) within u · |log p|: every token's log-softmax
    ///   moves by at most about u of its own size when the logits carry relative error u;
    /// - a gradient within 8u of its tensor's largest element: two decoder layers, each a chain of about
    ///   four float16 matmuls in the backward pass, each adding u of relative rounding.
    @Test func eachFormatShowsItsOwnPrecision() throws {
        let f32 = try Self.logProbsAndGradients(.fp32), f16 = try Self.logProbsAndGradients(.fp16)
        let bf16 = try Self.logProbsAndGradients(.bf16)
        let fixture = try SafetensorsFile(path: Self.fixtures + "/reference.safetensors")
        let torch32 = Tensor.cat([try fixture.tensor("policy_logps"), try fixture.tensor("reference_logps")]).to(.float64)
        #expect(maxDifference(f32.logps, torch32) < 1e-4, "svco's float32 log-probs are torch's (ReferenceStepTests)")

        let e16 = maxDifference(f16.logps, f32.logps), eBF16 = maxDifference(bf16.logps, f32.logps)
        #expect(e16 > 0 && e16 < eBF16 / 2, "log-probs: float16 off float32 by \(e16), bfloat16 by \(eBF16)")
        for (name, logps, u) in [("float16", f16.logps, Self.u16), ("bfloat16", bf16.logps, Self.uBF16)] {
            let excess = ((logps - torch32).abs() - torch32.abs() * u).max().item().doubleValue
            #expect(excess <= 0, "\(name) log-probs exceed u·|log p| by \(excess)")
        }

        let torchGrads = try SafetensorsFile(path: Self.fixtures + "/grads.safetensors")
        for name in torchGrads.names {
            guard let g32 = f32.grads[name], let g16 = f16.grads[name], let gBF16 = bf16.grads[name] else {
                Issue.record("no gradient for \(name)")
                continue
            }
            let reference = try torchGrads.tensor(name)
            let d16 = Self.relativeToMax(g16, g32), dBF16 = Self.relativeToMax(gBF16, g32)
            #expect(d16 > 0 && d16 < dBF16 / 2, "\(name): float16 gradient off float32 by \(d16) of the largest element, bfloat16 by \(dBF16)")
            #expect(Self.relativeToMax(g16, reference) <= 8 * Self.u16, "\(name): float16 \(Self.relativeToMax(g16, reference))")
            #expect(Self.relativeToMax(gBF16, reference) <= 8 * Self.uBF16, "\(name): bfloat16 \(Self.relativeToMax(gBF16, reference))")
        }
    }

    /// The loss moves by at most 4·Σβ times the largest log-prob error: each on term −log σ(β[(π_w − π_l)
    /// − (ref_w − ref_l)]) has slope at most β in each of its four log-probs.
    static func lossTolerance(logProbError: Double) -> Double { 4 * [0.1, 0.2, 0.0, 0.5].reduce(0, +) * logProbError }

    /// The largest |log p| of the fixture batch (float32, torch).
    static func largestLogProb() throws -> Double {
        let fixture = try SafetensorsFile(path: fixtures + "/reference.safetensors")
        return max(try fixture.tensor("policy_logps").abs().max().item().doubleValue,
                   try fixture.tensor("reference_logps").abs().max().item().doubleValue)
    }

    /// Two trainer steps on the same batch, as torch runs them: at the initial scale 2¹⁷ the scaled
    /// float16 backward overflows, so step 1 is skipped (weights and optimiser untouched, scale halved,
    /// the loss is finite so training goes on); step 2 at 2¹⁶ is taken and lands on torch's parameters.
    /// A loss that is not scaled before backward (no overflow, no skip) or gradients not unscaled
    /// before clipping (a grad_norm 2¹⁶ too large) fail here.
    @Test func fp16StepsMatchTorchAutocastAndGradScaler() throws {
        let expected = try Self.reference()
        #expect(expected.steps.count == 2 && expected.steps[0].found_inf == 1 && expected.steps[1].found_inf == 0)
        let fp32 = try JSONDecoder().decode(ReferenceStepTests.Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/reference.json")))
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
        // Both steps see the same batch and weights: the float32 loss within the log-probs' float16 error
        // (u·|log p|, as eachFormatShowsItsOwnPrecision checks).
        let tolerance = Self.lossTolerance(logProbError: Self.u16 * (try Self.largestLogProb()))
        for line in log {
            let loss = line["loss"] ?? .nan
            #expect(abs(loss - fp32.loss) <= tolerance, "loss \(loss) vs float32 \(fp32.loss)")
        }
        // A norm over many elements averages their rounding: within u of the float32 norm (torch's own
        // float16 norm lies 1.1e-4 relative from it).
        let norm = log.last?["grad_norm"] ?? .nan
        #expect(abs(norm - fp32.grad_norm) <= Self.u16 * fp32.grad_norm, "grad_norm \(norm) vs float32 \(fp32.grad_norm)")

        // On this first Adam step every element with a gradient moves by ±lr (m̂/√v̂ = sign g), so svco's
        // step equals torch's wherever both float16 gradients have the float32 gradient's sign. That is
        // certain where |g| exceeds the float16 gradient error bound of eachFormatShowsItsOwnPrecision
        // (8u of the tensor's largest element): there the two must agree to 1e-6 (a thousandth of lr);
        // below it a flipped sign puts an element 2·lr away.
        let after = try SafetensorsFile(path: Self.fixtures + "/fp16_step.safetensors")
        let torchGrads = try SafetensorsFile(path: Self.fixtures + "/grads.safetensors")
        let params = Self.parameters(t)
        let lr = 1e-3
        for name in after.names where name.hasPrefix("after.") {
            let key = String(name.dropFirst("after.".count))
            guard let p = params[key] else {
                Issue.record("no parameter \(key)")
                continue
            }
            let diff = (p.to(.float64) - (try after.tensor(name)).to(.float64)).abs()
            let g = try torchGrads.tensor(key).to(.float64).abs()
            let signCertain = g.gt(Scalar(8 * Self.u16 * g.max().item().doubleValue)).to(.float64)
            let worstCertain = (diff * signCertain).max().item().doubleValue
            #expect(worstCertain <= 1e-6, "\(key): \(worstCertain) from torch's step where the gradient's sign is certain")
            #expect(diff.max().item().doubleValue <= 2 * lr + 1e-6, "\(key)")
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

    /// `--bf16` as HF Trainer: bfloat16 autocast over float32 weights, no scaler. Against the float32
    /// step of the same batch (torch's fixture): the loss within the bound that bfloat16 log-probs
    /// allow (u·|log p| each), the norm within bfloat16's u (torch's own bf16 norm lies 1.4e-3
    /// relative from its fp32 norm, bf16_reference.json). The log-prob and gradient precision itself is
    /// checked in eachFormatShowsItsOwnPrecision.
    @Test func bf16StepMatchesFloat32WithinBFloat16Precision() throws {
        let fp32 = try JSONDecoder().decode(ReferenceStepTests.Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/reference.json")))
        let dir = TrainerTests.folder("bf16-step")
        let t = try Self.trainer(fp16: false, output: dir) { $0.bf16 = true; $0.maxSteps = 1 }
        #expect(t.scaler == nil)
        try t.train()
        let line = try MetricsLog.read(path: dir + "/metrics.jsonl").first ?? [:]
        let loss = line["loss"] ?? .nan, norm = line["grad_norm"] ?? .nan
        let tolerance = Self.lossTolerance(logProbError: Self.uBF16 * (try Self.largestLogProb()))
        #expect(loss != fp32.loss && abs(loss - fp32.loss) <= tolerance, "loss \(loss) vs \(fp32.loss)")
        #expect(abs(norm - fp32.grad_norm) <= Self.uBF16 * fp32.grad_norm, "grad_norm \(norm) vs \(fp32.grad_norm)")
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

    /// Under autocast the frozen reference holds its linear layers' weights in the autocast dtype, and
    /// scores exactly as a reference held in float32 (autocast rounds those weights the same way); the
    /// policy keeps float32 everywhere.
    @Test(arguments: [Precision.fp16, .bf16]) func theReferenceHoldsItsLinearWeightsInTheAutocastType(_ precision: Precision) throws {
        let t = try Self.trainer(fp16: precision == .fp16, output: TrainerTests.folder("held-reference")) { $0.bf16 = precision == .bf16 }
        let dtype: DType = precision == .fp16 ? .float16 : .bfloat16
        let reference = try #require(t.reference)
        let held = reference.namedParameters().filter { $0.parameter.value.dtype == dtype }
        #expect(!held.isEmpty && held.allSatisfy { $0.name.hasSuffix("proj.weight") || $0.name.hasSuffix("proj.bias")
            || $0.name.contains(".fc") || $0.name.contains("linear_") || $0.name.hasSuffix("lm_head.weight") })
        #expect(t.referenceValuesInAutocastDType == held.reduce(0) { $0 + $1.parameter.value.count })
        #expect(t.policy.namedParameters().allSatisfy { $0.parameter.value.dtype == .float32 })

        let float32Reference = try LlavaModel.load(directory: TrainerTests.root + "/demo/tiny-llava", dtype: .float32)
        let batch = try t.builder.build(t.trainRecords)
        let (a, b) = try t.forwardPrecision {
            try Autograd.noGrad { (try reference.sixSequenceLogProbs(batch), try float32Reference.sixSequenceLogProbs(batch)) }
        }
        for (x, y) in zip(a.named, b.named) { #expect(maxDifference(x.value, y.value) == 0, "\(x.key)") }
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
