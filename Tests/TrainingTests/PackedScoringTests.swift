import Foundation
import Testing
@testable import Datasets
@testable import Images
@testable import Models
@testable import NN
@testable import Tokenizers
@testable import Torch
@testable import Training

/// The trainer's packed scoring on the reference-step fixtures of both families (2 real records each):
/// the same log-probs as the Python reference and as the unshared path, the same gradients for every
/// loss (fp32, 1e-5 relative to each tensor's largest element), with and without gradient
/// checkpointing; and the precomputed reference cache: hit, key change, corruption, and training on it.
@Suite struct PackedScoringTests {
    typealias Case = ReferenceStepTests.Case

    static func setUp(_ c: Case, loss: any PreferenceLoss = SVCOLoss(betas: [0.1, 0.2, 0.0, 0.5]), withReference: Bool = true,
                      configure: (inout TrainingArguments) -> Void = { _ in }) throws -> (SVCOTrainer, [MVCRecord]) {
        var args = TrainingArguments()
        args.outputDir = TrainerTests.folder("packed-\(c.description)")
        args.perDeviceTrainBatchSize = 2
        args.gradientAccumulationSteps = 1
        args.maxSteps = 1
        args.dataOrder = .sequential
        args.evalSteps = 0
        args.saveSteps = 0
        configure(&args)
        let policy = try LlavaModel.load(directory: c.policyDir, dtype: .float32)
        let frozen = withReference ? try LlavaModel.load(directory: c.referenceDir, dtype: .float32) : nil
        let tokenizer = try Tokenizer(directory: c.policyDir, addEOS: c.addEOS)
        let collator = try SixSequenceCollator(tokenizer: tokenizer, template: try ChatTemplate.load(modelDirectory: URL(fileURLWithPath: c.policyDir)),
                                               family: c.family, maxLength: c.maxLength)
        let builder = BatchBuilder(collator: collator, processor: try ImageProcessors.load(directory: c.policyDir), config: policy.config,
                                   padId: tokenizer.padTokenID ?? 0)
        let all = try MVCDataset(file: TrainerTests.root + "/demo/mvc/eval.json").records
        let records = c.records.map { all[$0] }
        let trainer = try SVCOTrainer(args: args, modelDirectory: c.policyDir, policy: policy, reference: frozen, builder: builder,
                                      train: records, eval: records, loss: loss, resume: false)
        return (trainer, records)
    }

    static func relative(_ a: Tensor, _ b: Tensor) -> Double { maxRelative(a, b) }

    @Test(arguments: ReferenceStepTests.cases)
    func logProbsEqualTheReferenceAndTheUnsharedPath(_ c: Case) throws {
        let (trainer, records) = try Self.setUp(c)
        let tensors = try SafetensorsFile(path: c.fixtures + "/reference.safetensors")
        let (pi, ref) = try trainer.recordLogProbs(records)
        let piAll = Tensor.cat(pi.named.map(\.value)), refAll = Tensor.cat(ref.named.map(\.value))
        #expect(Self.relative(piAll, try tensors.tensor("policy_logps")) < 1e-4)
        #expect(Self.relative(refAll, try tensors.tensor("reference_logps")) < 1e-4)
        let (upi, uref) = try Autograd.noGrad { try trainer.logProbs(trainer.builder.build(records)) }
        #expect(Self.relative(piAll, Tensor.cat(upi.named.map(\.value))) < 1e-5)
        #expect(Self.relative(refAll, Tensor.cat(uref.named.map(\.value))) < 1e-5)
        #expect(pi.tokenCounts?.toArray(Int.self) == upi.tokenCounts?.toArray(Int.self))
        // The work: 12 padded rows unshared; pairs in one row each, the text-only ones at their own width.
        let packed = try trainer.builder.buildPacked(records)
        let unshared = try trainer.builder.build(records)
        #expect(packed.plan.forwards.count == 2)
        #expect(packed.plan.computedPositions < unshared.inputIds.count * 2 / 3,
                "\(packed.plan.computedPositions) positions packed vs \(unshared.inputIds.count)")
    }

    static func gradients(_ trainer: SVCOTrainer, _ records: [MVCRecord], packed: Bool) throws -> [String: Tensor] {
        trainer.optimizer.zeroGradients()
        let corrupted = try trainer.corruptedBatch(records, position: 0)
        let (pi, ref) = packed ? try trainer.recordLogProbs(records, corrupted: corrupted)
            : try trainer.logProbs(trainer.builder.build(records, kinds: trainer.loss.sequenceKinds), corrupted: corrupted)
        trainer.loss(policy: pi, reference: ref, mode: .train).loss.backward()
        var out: [String: Tensor] = [:]
        for (key, p) in trainer.policy.namedParameters() { if let g = p.value.grad { out[key] = g.clone() } }
        trainer.optimizer.zeroGradients()
        return out
    }

    static var losses: [(String, any PreferenceLoss)] { [
        ("svco", SVCOLoss(betas: [0.1, 0.2, 0.0, 0.5])), ("dpo", DPOLoss(beta: 0.5)), ("mdpo", MDPOLoss(beta: 0.5)), ("sft", SFTLoss()),
    ] }

    @Test(arguments: ReferenceStepTests.cases, [0, 1, 2, 3])
    func everyLossHasTheUnsharedGradients(_ c: Case, loss index: Int) throws {
        let (name, loss) = Self.losses[index]
        for checkpointing in [false, true] where !checkpointing || name == "svco" {
            let (trainer, records) = try Self.setUp(c, loss: loss, withReference: name != "sft") { $0.gradientCheckpointing = checkpointing }
            let plain = try Self.gradients(trainer, records, packed: false)
            let packed = try Self.gradients(trainer, records, packed: true)
            #expect(Set(plain.keys) == Set(packed.keys) && plain.count > 10)
            let (worst, key) = PrefixPackingSupport.worstGradient(packed, plain)
            #expect(worst <= 1e-5, "\(c) \(name) checkpointing \(checkpointing): \(key) differs by \(worst) of its largest element")
        }
    }

    // MARK: precomputed reference log-probs

    static func key(_ note: String = "") -> ReferenceCacheKey { ReferenceCacheKey(components: ["test": "packed-scoring" + note]) }

    @Test func cacheHitMissAndCorruption() throws {
        let c = ReferenceStepTests.cases[0]
        let (trainer, records) = try Self.setUp(c)
        let path = trainer.args.outputDir + "/ref.bin"
        var loads = 0
        func prepare(_ key: ReferenceCacheKey) throws -> (ReferenceLogProbTable, ReferencePrecompute.Report) {
            try ReferencePrecompute.prepare(records: records, kinds: SequenceKind.allCases, builder: trainer.builder, key: key,
                                            cachePath: path, batchSize: 1) {
                loads += 1
                return try LlavaModel.load(directory: c.referenceDir, dtype: .float32)
            }
        }
        // Miss: computed, written; the values are the live reference's.
        let (table, first) = try prepare(Self.key())
        #expect(first == .init(reused: 0, computed: 2, discarded: nil) && loads == 1)
        let live = try trainer.recordLogProbs(records).1
        let cached = try table.logProbs(for: records, kinds: SequenceKind.allCases, device: .cpu)
        #expect(Self.relative(Tensor.cat(cached.named.map(\.value)), Tensor.cat(live.named.map(\.value))) < 1e-6)
        // Hit: nothing computed, the model never loaded.
        let (_, second) = try prepare(Self.key())
        #expect(second == .init(reused: 2, computed: 0, discarded: nil) && loads == 1, "\(second) \(ReferenceLogProbCache.read(path: path, key: Self.key()))")
        // A changed key recomputes everything.
        let (_, third) = try prepare(Self.key("-other"))
        #expect(third.computed == 2 && third.discarded?.contains("another key") == true && loads == 2)
        // A damaged byte, or a cut file, is detected and rebuilt, never used.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(ReferenceLogProbCache.read(path: path, key: Self.key("-other")) == .corrupt("checksum mismatch (truncated or damaged)"))
        let (_, fourth) = try prepare(Self.key("-other"))
        #expect(fourth.computed == 2 && fourth.discarded?.contains("corrupt") == true)
        bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try Data(bytes.dropLast(20)).write(to: URL(fileURLWithPath: path))
        let (_, fifth) = try prepare(Self.key("-other"))
        #expect(fifth.computed == 2 && fifth.discarded?.contains("corrupt") == true)
        if case .entries(let e) = ReferenceLogProbCache.read(path: path, key: Self.key("-other")) { #expect(e.count == 2) } else {
            Issue.record("the rebuilt cache does not read back")
        }
        // A loss that needs fewer kinds stores NaN for the rest; asking later for all six computes them.
        try FileManager.default.removeItem(atPath: path)
        _ = try ReferencePrecompute.prepare(records: records, kinds: [.cc, .cr], builder: trainer.builder, key: Self.key(),
                                            cachePath: path, batchSize: 2) { try LlavaModel.load(directory: c.referenceDir, dtype: .float32) }
        let (_, widened) = try prepare(Self.key())
        #expect(widened.computed == 2)
    }

    @Test func theKeyFollowsWeightsAndInputs() throws {
        let c = ReferenceStepTests.cases[0]
        func key(_ reference: String, maxLength: Int = 128, precision: String = "float32") throws -> ReferenceCacheKey {
            try ReferenceCacheKey.make(referenceDirectory: reference, inputsDirectory: c.policyDir, template: "t", maxLength: maxLength,
                                       addEOS: true, precision: precision)
        }
        let base = try key(c.referenceDir)
        #expect(base == (try key(c.referenceDir)))
        #expect(base.value != (try key(c.policyDir)).value)  // other weights
        #expect(base.value != (try key(c.referenceDir, maxLength: 64)).value)
        #expect(base.value != (try key(c.referenceDir, precision: "float32-autocast-bfloat16")).value)
        #expect(throws: TrainingError.self) { try key(TrainerTests.root + "/Tests") }
    }

    @Test func trainingOnTheTableEqualsTrainingWithTheModel() throws {
        let c = ReferenceStepTests.cases[0]
        let (withModel, records) = try Self.setUp(c)
        let (withTable, _) = try Self.setUp(c, withReference: false)
        let (table, _) = try ReferencePrecompute.prepare(records: records, kinds: SequenceKind.allCases, builder: withTable.builder,
                                                        key: Self.key(), cachePath: withTable.args.outputDir + "/ref.bin", batchSize: 2) {
            try LlavaModel.load(directory: c.referenceDir, dtype: .float32)
        }
        withTable.referenceTable = table
        try withModel.train()
        try withTable.train()
        let a = try MetricsLog.read(path: withModel.args.outputDir + "/metrics.jsonl")
        let b = try MetricsLog.read(path: withTable.args.outputDir + "/metrics.jsonl")
        for key in ["loss", "grad_norm", "train_reward_margin/img_win_vs_no_img_reward_margins"] {
            let x = a.first?[key] ?? .nan, y = b.first?[key] ?? .nan
            #expect(abs(x - y) <= 1e-6 * max(1, abs(x)), "\(key): \(x) vs \(y)")
        }
    }

    @Test func thePixelCacheEvictsTheLeastRecentlyUsed() {
        let cache = PixelCache(byteLimit: 3 * 400)
        for name in ["a", "b", "c"] { cache.put(name, Tensor.zeros([100])) }  // 400 bytes each
        _ = cache.get("a")
        cache.put("d", Tensor.zeros([100]))
        #expect(cache.get("b") == nil && cache.get("a") != nil && cache.get("c") != nil && cache.get("d") != nil)
        #expect(cache.count == 3 && cache.bytes == 1200)
    }
}

/// Shared by the packed-scoring tests.
enum PrefixPackingSupport {
    /// max over tensors of max|a − b| / max|b|, and where.
    static func worstGradient(_ a: [String: Tensor], _ b: [String: Tensor]) -> (Double, String) {
        var worst = (0.0, "")
        for (key, g) in b {
            guard let other = a[key] else { return (.infinity, key + " missing") }
            let d = maxDifference(other, g) / max(1e-12, g.abs().max().item().doubleValue)
            if d > worst.0 { worst = (d, key) }
        }
        return worst
    }
}
