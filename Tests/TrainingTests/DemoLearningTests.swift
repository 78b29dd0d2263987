import Foundation
import Testing
@testable import Datasets
@testable import Images
@testable import Models
@testable import Tokenizers
@testable import Torch
@testable import Training

/// Issue 5: `make demo`'s run — S-VCO on the bundled demo model (demo/tiny-llava) and pairs (demo/mvc) with
/// the settings of scripts/demo — lifts all four reward accuracies above 0.9 within 30 optimiser steps.
/// Each step is one full batch of the 64 training records, so the record order cannot matter. The accuracies
/// asserted are those of the training split, scored after step 30 (the held-out 16 pairs reach about
/// 0.63–0.94 by then in the PyTorch reference: too few pairs and too few steps to assert more than that).
@Suite(.serialized) struct DemoLearningTests {
    /// The training flags scripts/demo passes to `svco train` (keep the two in step).
    static func demoArguments(output: String) -> TrainingArguments {
        var args = TrainingArguments()
        args.outputDir = output
        args.learningRate = 3e-3
        args.betas = Array(repeating: 1.0, count: 4)
        args.lrSchedulerType = .constant
        args.warmupRatio = 0
        args.perDeviceTrainBatchSize = 64
        args.perDeviceEvalBatchSize = 64
        args.gradientAccumulationSteps = 1
        args.maxSteps = 30
        args.loggingSteps = 10
        args.evalSteps = 30
        args.saveSteps = 0
        return args
    }

    static let accuracyKeys = ["img_win_vs_no_img", "no_img_vs_img_lose", "img_lose_vs_no_img", "no_img_vs_img_win"]

    @Test func thirtyStepsRaiseAllFourRewardAccuraciesAboveNinetyPercent() throws {
        let root = TrainerTests.root, modelDir = TrainerTests.modelDir
        let output = TrainerTests.folder("demo30")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let args = Self.demoArguments(output: output)
        let policy = try LlavaModel.load(directory: modelDir, dtype: .float32)
        let reference = try LlavaModel.load(directory: modelDir, dtype: .float32)
        let tokenizer = try Tokenizer(directory: modelDir, addEOS: true)
        let collator = try SixSequenceCollator(tokenizer: tokenizer, template: try ChatTemplate.load(modelDirectory: URL(fileURLWithPath: modelDir)),
                                               family: .llava15, maxLength: args.modelMaxLength)
        let builder = BatchBuilder(collator: collator, processor: try ImageProcessors.load(directory: modelDir),
                                   config: policy.config, padId: tokenizer.padTokenID ?? 0)
        let train = try MVCDataset(file: root + "/demo/mvc/train.json").records
        let eval = try MVCDataset(file: root + "/demo/mvc/eval.json").records
        #expect(train.count == 64 && eval.count == 16)
        let trainer = try SVCOTrainer(args: args, modelDirectory: modelDir, policy: policy, reference: reference, builder: builder,
                                      train: train, eval: train, loss: SVCOLoss(betas: args.betas), resume: false)
        var evaluations: [[String: Double]] = []
        try trainer.train { event in
            if case .evaluated(let line) = event { evaluations.append(line) }
        }
        #expect(evaluations.map { $0["step"] ?? 0 } == [30])
        guard let last = evaluations.last else { return }
        for key in Self.accuracyKeys {
            let accuracy = last["eval_reward_acc/\(key)_reward_accuracies"] ?? -1
            #expect(accuracy > 0.9, "training-split reward accuracy \(key) after 30 steps: \(accuracy)")
        }
    }
}
