import Foundation
import Testing
@testable import Datasets
@testable import Models
@testable import Torch
@testable import Training

/// What the trainer refuses before step 1, and how a run survives failures around it: log writes,
/// resumes, finished runs, abandoned checkpoint folders. On the demo model and pairs.
@Suite(.serialized) struct TrainerInputTests {
    static func run(_ configure: @escaping (inout TrainingArguments) -> Void = { _ in }) -> (inout TrainingArguments) -> Void {
        { args in
            args.perDeviceTrainBatchSize = 2
            args.gradientAccumulationSteps = 1
            args.maxSteps = 2
            configure(&args)
        }
    }

    static func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    static func demoRecords(_ n: Int) throws -> [MVCRecord] {
        Array(try MVCDataset(file: TrainerTests.root + "/demo/mvc/train.json").records.prefix(n))
    }

    // MARK: refused before step 1

    /// A record whose response --model-max-length cuts away would train on a constant loss with zero
    /// gradient: refused, naming count, records and sequences — or dropped on request.
    @Test func recordsWithoutScoredTokensAreRefusedOrDropped() throws {
        let records = try Self.demoRecords(8)
        // The length each record needs to keep a scored token in all six sequences.
        let collator = try TrainerTests.trainer(Self.run(), output: TrainerTests.folder("collator")).builder.collator
        let needed = try records.map { r in try SequenceKind.allCases.map { k in
            (try collator.sequence(r, k).labels.firstIndex { $0 != -100 } ?? 0) + 1
        }.max() ?? 0 }
        let limit = needed.min() ?? 0
        let cut = needed.indices.filter { needed[$0] > limit }
        try #require(!cut.isEmpty && cut.count < records.count, "the demo records need different lengths: \(needed)")

        let refused = Self.message { _ = try TrainerTests.trainer(Self.run { $0.modelMaxLength = limit }, output: TrainerTests.folder("unscored"), trainSet: records) }
        #expect(refused.hasPrefix("\(cut.count) of 8 training records keep no response token after truncation to --model-max-length \(limit)"), "\(refused)")
        #expect(refused.contains("record" + (cut.count == 1 ? " " : "s ") + "\(cut[0]) (") && refused.contains("--drop-unscored-records"), "\(refused)")

        let t = try TrainerTests.trainer(Self.run { $0.modelMaxLength = limit; $0.dropUnscoredRecords = true }, output: TrainerTests.folder("dropped"),
                                         trainSet: records)
        #expect(t.droppedTrainRecords.map(\.record) == cut && t.trainRecords.count == records.count - cut.count)
        try t.train()
        #expect(t.globalStep == 2)

        let none = Self.message { _ = try TrainerTests.trainer(Self.run { $0.modelMaxLength = 2; $0.dropUnscoredRecords = true },
                                                               output: TrainerTests.folder("all-dropped"), trainSet: records) }
        #expect(none == "every training record was dropped by --drop-unscored-records: nothing is left to train on")
    }

    /// Every image is decoded before step 1 (not when its batch comes, hours in): one list of the bad
    /// files with the records naming them, and nothing is written.
    @Test func unreadableImagesAreListedBeforeStepOne() throws {
        let dir = TrainerTests.folder("bad-images")
        let corrupt = dir + "/corrupt.png"
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]).write(to: URL(fileURLWithPath: corrupt))
        var records = try Self.demoRecords(6)
        records[1].chosenImages = [dir + "/missing.png"]
        records[3].rejectedImages = [corrupt]
        records[5].chosenImages = [corrupt]
        records[4].rejectedImages = [dir]
        let output = dir + "/out"
        let message = Self.message { _ = try TrainerTests.trainer(Self.run(), output: output, trainSet: records) }
        #expect(message.hasPrefix("3 image file(s) of the training and evaluation records cannot be used"), "\(message)")
        #expect(message.contains("\(dir): is a folder, not a file (record 4)"), "\(message)")
        #expect(message.contains("\(dir)/missing.png: no such file (record 1)"), "\(message)")
        #expect(message.contains("\(corrupt): invalid PNG data") && message.contains("(records 3, 5)"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: output + "/metrics.jsonl"))
    }

    @Test func aRunWithoutStepsIsRefused() {
        let message = Self.message { _ = try TrainerTests.trainer(Self.run { $0.maxSteps = -1; $0.numTrainEpochs = 0 }, output: TrainerTests.folder("no-steps")) }
        #expect(message == "--num-train-epochs 0.0 with --max-steps -1 gives no optimiser step: nothing would be trained")
    }

    // MARK: logs, resumes, finished runs

    /// A metrics line that cannot be written (here: a full device) stops training with the file and the
    /// reason, after saving the state of that step.
    @Test func aFailedMetricsWriteStopsAfterSavingACheckpoint() throws {
        let dir = TrainerTests.folder("full-disk")
        try FileManager.default.createSymbolicLink(atPath: dir + "/metrics.jsonl", withDestinationPath: "/dev/full")
        let t = try TrainerTests.trainer(Self.run { $0.saveSteps = 0 }, output: dir)
        let message = Self.message { try t.train() }
        #expect(message == "\(dir)/metrics.jsonl: cannot write (No space left on device) at step 1; training stopped. "
            + "Saved \(dir)/checkpoint-1 first: free space and resume with --resume-from-checkpoint latest.", "\(message)")
        #expect(t.globalStep == 1 && FileManager.default.fileExists(atPath: dir + "/checkpoint-1/trainer_state.json"))
    }

    /// After a resume metrics.jsonl holds every step once: the interrupted run's lines after the
    /// checkpoint are dropped before the resumed steps are appended.
    @Test func resumeTruncatesTheMetricsToTheCheckpoint() throws {
        let dir = TrainerTests.folder("resume-metrics")
        let first = try TrainerTests.trainer(Self.run { $0.maxSteps = 4; $0.saveSteps = 2 }, output: dir)
        try first.train(stopAfterStep: 3)  // "killed" after step 3, past checkpoint-2
        #expect(try MetricsLog.read(path: dir + "/metrics.jsonl").map { $0["step"] ?? 0 } == [1, 2, 3])
        let resumed = try TrainerTests.trainer(Self.run { $0.maxSteps = 4; $0.saveSteps = 2 }, output: dir, resume: true)
        try resumed.resume(from: dir + "/checkpoint-2")
        #expect(try MetricsLog.read(path: dir + "/metrics.jsonl").map { $0["step"] ?? 0 } == [1, 2])
        try resumed.train()
        #expect(try MetricsLog.read(path: dir + "/metrics.jsonl").map { $0["step"] ?? 0 } == [1, 2, 3, 4])
    }

    /// The last step is checkpointed (as HF Trainer saves at the end), so resuming a finished run
    /// trains nothing and logs nothing.
    @Test func aFinishedRunResumesAsFinished() throws {
        let dir = TrainerTests.folder("finished")
        let t = try TrainerTests.trainer(Self.run { $0.saveSteps = 5 }, output: dir)
        try t.train()
        #expect(SVCOTrainer.latestCheckpoint(in: dir) == dir + "/checkpoint-2")
        let again = try TrainerTests.trainer(Self.run { $0.saveSteps = 5 }, output: dir, resume: true)
        try again.resume(from: dir + "/checkpoint-2")
        var events: [String] = []
        try again.train { event in events.append("\(event)") }
        #expect(events == ["alreadyFinished(step: 2)"])
        #expect(try MetricsLog.read(path: dir + "/metrics.jsonl").count == 2)
        // Without checkpoints (--save-steps 0 / --save-strategy no) nothing is saved at the end either.
        let unsaved = TrainerTests.folder("unsaved")
        try TrainerTests.trainer(Self.run { $0.saveStrategy = .no }, output: unsaved).train()
        #expect(SVCOTrainer.latestCheckpoint(in: unsaved) == nil)
    }

    /// `checkpoint-N.tmp-PID` folders of a process that is gone (a run killed while saving) are removed
    /// when the next run starts; one of a live process is left alone.
    @Test func abandonedCheckpointFoldersAreRemoved() throws {
        let dir = TrainerTests.folder("abandoned")
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead -= 1 }
        let fm = FileManager.default
        for name in ["checkpoint-3.tmp-\(dead)", "checkpoint-4.tmp-\(getppid())"] {
            try fm.createDirectory(atPath: dir + "/" + name, withIntermediateDirectories: true)
            try Data(count: 16).write(to: URL(fileURLWithPath: dir + "/" + name + "/model.safetensors"))
        }
        _ = try TrainerTests.trainer(Self.run(), output: dir)
        #expect(!fm.fileExists(atPath: dir + "/checkpoint-3.tmp-\(dead)"))
        #expect(fm.fileExists(atPath: dir + "/checkpoint-4.tmp-\(getppid())"))
    }

    // MARK: schedules of logs, evaluations and checkpoints

    @Test func loggingFirstStepAndEpochStrategies() throws {
        let dir = TrainerTests.folder("strategies")
        // 4 records, 2 per step: 2 steps per epoch, 5 steps in all.
        let t = try TrainerTests.trainer(Self.run {
            $0.maxSteps = 5; $0.loggingSteps = 3; $0.loggingFirstStep = true
            $0.evalStrategy = .epoch; $0.saveStrategy = .epoch
        }, output: dir, records: 4, evalRecords: 2)
        var evaluated: [Int] = [], saved: [String] = []
        try t.train { event in
            if case .evaluated(let line) = event { evaluated.append(Int(line["step"] ?? 0)) }
            if case .checkpointSaved(let path) = event { saved.append(URL(fileURLWithPath: path).lastPathComponent) }
        }
        let logged = try MetricsLog.read(path: dir + "/metrics.jsonl").filter { $0["loss"] != nil }.map { Int($0["step"] ?? 0) }
        #expect(logged == [1, 3, 5])
        #expect(evaluated == [2, 4, 5])
        #expect(saved == ["checkpoint-2", "checkpoint-4", "checkpoint-5"])
    }

    /// TensorBoard gets HF Trainer's tags (train/…, eval/…); --report-to none writes no event file.
    @Test func tensorBoardTagsAndReportToNone() throws {
        let dir = TrainerTests.folder("tensorboard")
        try TrainerTests.trainer(Self.run { $0.maxSteps = 1; $0.evalSteps = 1 }, output: dir, evalRecords: 2).train()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/runs")
        try #require(files.count == 1)
        let events = try TensorBoardTests.tags(inEventFile: dir + "/runs/" + files[0])
        let train = events.first { $0.contains("train/loss") } ?? []
        let eval = events.first { $0.contains("eval/loss") } ?? []
        for tag in ["train/learning_rate", "train/grad_norm", "train/epoch",
                    "train/train_reward_acc/img_win_vs_no_img_reward_accuracies", "train/train_pi_logratios/pi_logratios_no_img_vs_img_win_distance"] {
            #expect(train.contains(tag), "\(tag)")
        }
        for tag in ["eval/reward_margin/img_lose_vs_no_img_reward_margins", "eval/losses/img_win_vs_no_img_loss", "train/epoch"] {
            #expect(eval.contains(tag), "\(tag)")
        }
        #expect(!train.union(eval).contains { $0.contains("step") })

        let quiet = TrainerTests.folder("report-none")
        try TrainerTests.trainer(Self.run { $0.maxSteps = 1; $0.reportTo = [.none] }, output: quiet).train()
        #expect(!FileManager.default.fileExists(atPath: quiet + "/runs"))
        #expect(try MetricsLog.read(path: quiet + "/metrics.jsonl").count == 1)
    }
}
