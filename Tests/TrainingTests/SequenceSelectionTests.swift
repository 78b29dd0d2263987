import Foundation
import Testing
@testable import Datasets
@testable import Images
@testable import Models
@testable import NN
@testable import Tokenizers
@testable import Torch
@testable import Training

/// Each loss builds and scores only the sequences it reads: the losses and every metric equal the
/// all-six path, with fewer rows. Policy = the reference-step fixture's noisy policy, reference =
/// the demo model, so rewards and margins are not zero.
@Suite struct SequenceSelectionTests {
    static let root = TrainerTests.root

    static func setup() throws -> (policy: LlavaModel, reference: LlavaModel, builder: BatchBuilder, records: [MVCRecord]) {
        let policyDir = root + "/Tests/TrainingTests/Fixtures/policy"
        let policy = try LlavaModel.load(directory: policyDir, dtype: .float32)
        let reference = try LlavaModel.load(directory: root + "/demo/tiny-llava", dtype: .float32)
        let tokenizer = try Tokenizer(directory: policyDir, addEOS: true)
        let collator = try SixSequenceCollator(tokenizer: tokenizer, template: try ChatTemplate.load(modelDirectory: URL(fileURLWithPath: policyDir)),
                                               family: .llava15, maxLength: 128)
        let builder = BatchBuilder(collator: collator, processor: try ImageProcessors.load(directory: policyDir), config: policy.config,
                                   padId: tokenizer.padTokenID ?? 0)
        let records = Array(try MVCDataset(file: root + "/demo/mvc/eval.json").records.prefix(3))
        return (policy, reference, builder, records)
    }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-6 * max(1, abs(b)) }

    @Test func lossesDeclareWhatTheyRead() {
        #expect(SVCOLoss().sequenceKinds == SequenceKind.allCases)
        #expect(DPOLoss().sequenceKinds == [.cc, .cr])
        #expect(MDPOLoss().sequenceKinds == [.cc, .cr])
        #expect(SFTLoss().sequenceKinds == [.cc, .rr])
    }

    @Test(arguments: ["dpo", "mdpo", "sft", "svco"]) func selectedSequencesGiveTheAllSixResults(_ name: String) throws {
        let loss: any PreferenceLoss = switch name {
        case "dpo": DPOLoss(beta: 0.1)
        case "mdpo": MDPOLoss(beta: 0.1)
        case "sft": SFTLoss()
        default: SVCOLoss(betas: [0.1, 0.2, 0.0, 0.5])
        }
        let s = try Self.setup()
        let b = s.records.count
        let all = try s.builder.build(s.records)
        let some = try s.builder.build(s.records, kinds: loss.sequenceKinds)
        #expect(all.inputIds.size(0) == 6 * b)
        #expect(some.inputIds.size(0) == loss.sequenceKinds.count * b)
        #expect(some.kinds == loss.sequenceKinds)
        // Images go only with the rows built: cc/cr carry the chosen image, rr the rejected one.
        let imageRows = loss.sequenceKinds.filter { $0.image != .none }.count * b
        #expect(some.pixelValues?.size(0) == imageRows)

        func scored(_ batch: SixSequenceBatch) throws -> (SixSequenceLogProbs, SixSequenceLogProbs) {
            var pi = try s.policy.sixSequenceLogProbs(batch)
            var ref = try Autograd.noGrad { try s.reference.sixSequenceLogProbs(batch) }
            if loss.usesCorruptedImages {
                let corrupted = try s.builder.buildCorruptedChosen(s.records, seed: 7)
                pi.corruptedChosen = try Autograd.noGrad { try s.policy.rowLogProbs(corrupted) }
                ref.corruptedChosen = try Autograd.noGrad { try s.reference.rowLogProbs(corrupted) }
            }
            return (pi, ref)
        }
        let (piAll, refAll) = try Autograd.noGrad { try scored(all) }
        let (piSome, refSome) = try Autograd.noGrad { try scored(some) }
        // The kinds not built are NaN; the built ones equal the all-six values.
        for kind in SequenceKind.allCases {
            let path: KeyPath<SixSequenceLogProbs, Tensor> = switch kind {
            case .cc: \.cc
            case .rc: \.rc
            case .cr: \.cr
            case .rr: \.rr
            case .nc: \.nc
            case .nr: \.nr
            }
            let x = piSome[keyPath: path].toArray(Double.self), y = piAll[keyPath: path].toArray(Double.self)
            if loss.sequenceKinds.contains(kind) {
                #expect(zip(x, y).allSatisfy { Self.close($0, $1) }, "\(kind): \(x) vs \(y)")
                #expect(piSome.tokenCounts(of: kind)?.toArray(Int.self) == piAll.tokenCounts(of: kind)?.toArray(Int.self))
            } else {
                #expect(x.allSatisfy { $0.isNaN }, "\(kind) should not be computed")
            }
        }
        for mode in [LossMode.train, .eval] {
            let a = loss(policy: piAll, reference: refAll, mode: mode), c = loss(policy: piSome, reference: refSome, mode: mode)
            let la = a.loss.item().doubleValue, lc = c.loss.item().doubleValue
            #expect(la.isFinite && Self.close(lc, la), "loss \(lc) vs \(la)")
            #expect(Set(a.metrics.keys) == Set(c.metrics.keys))
            for (key, value) in a.metrics {
                #expect(value.isFinite && Self.close(c.metrics[key] ?? .nan, value), "\(name) \(key): \(c.metrics[key] ?? .nan) vs \(value)")
            }
        }
    }

    /// The trainer's evaluation builds only the loss's kinds and reports what the all-six batch gives.
    @Test(arguments: ["dpo", "sft"]) func trainerEvaluationEqualsTheAllSixPath(_ name: String) throws {
        let loss: any PreferenceLoss = name == "dpo" ? DPOLoss(beta: 0.1) : SFTLoss()
        let s = try Self.setup()
        var args = TrainingArguments()
        args.outputDir = TrainerTests.folder("selection-\(name)")
        args.perDeviceEvalBatchSize = s.records.count
        let trainer = try SVCOTrainer(args: args, modelDirectory: Self.root + "/demo/tiny-llava", policy: s.policy, reference: s.reference,
                                      builder: s.builder, train: s.records, eval: s.records, loss: loss, resume: false)
        let line = try trainer.evaluate()
        let all = try s.builder.build(s.records)
        let (pi, ref) = try Autograd.noGrad { (try s.policy.sixSequenceLogProbs(all), try s.reference.sixSequenceLogProbs(all)) }
        let expected = loss(policy: pi, reference: ref, mode: .eval)
        #expect(Self.close(line["eval_loss"] ?? .nan, expected.loss.item().doubleValue))
        #expect(line.count == expected.metrics.count + 1)
        for (key, value) in expected.metrics {
            #expect(Self.close(line["eval_" + key] ?? .nan, value), "\(key)")
        }
    }
}
