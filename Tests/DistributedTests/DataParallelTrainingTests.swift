import Foundation
import Testing
import Torch

/// `svco train` data parallel, through the built binary: ranks started by `svco launch` (or, where a
/// test must see a rank's own exit, with torchrun's variables by hand), Gloo on the CPU, one thread
/// each, on the tiny models of both families.
///
/// Tolerances. The runs compared differ only in how the records of a global micro-batch are split:
/// one process scores them in one padded batch, W ranks in W smaller batches, and the gradients are
/// averaged by an all-reduce instead of by the loss's mean. Every value therefore agrees up to float32
/// rounding of the same sums in another order and another padding: a few units of 2⁻²⁴ relative per
/// operation over the tiny models' short chains, far below the 1e-5 relative the issue asks for. The
/// metrics built from differences of log-probs (rewards, margins) carry the log-probs' absolute
/// rounding, so their bound is relative to the log-probs' scale. The step is checked on the weights'
/// change (after − before) relative to its own size, plus the float32 rounding of the weights
/// themselves (2⁻²³ of the largest); Adam's ε 1 makes the update nearly linear in the gradient (a
/// first AdamW step otherwise moves every element by ±lr whatever the gradient, hiding a wrong one),
/// lr 1 makes it large against that rounding (≈10⁻⁴–10⁻² per element), and clipping is active
/// (grad_norm > --max-grad-norm 0.1 is asserted).
@Suite(.serialized) struct DataParallelTrainingTests {
    static let root = Ranks.root

    struct Family: CustomStringConvertible, Sendable {
        var description: String
        var model: String
        var maxLength: Int
    }

    /// The reference-step fixtures' policies (Tests/TrainingTests/Fixtures): LLaVA-1.5 (CLIP + Llama)
    /// and LLaVA-Interleave (SigLIP + Qwen2, tied embeddings).
    static let families = [
        Family(description: "llava-1.5", model: root + "/Tests/TrainingTests/Fixtures/policy", maxLength: 128),
        Family(description: "llava-interleave", model: root + "/Tests/TrainingTests/Fixtures/interleave/policy", maxLength: 96),
    ]

    static func folder(_ name: String) -> String {
        let path = NSTemporaryDirectory() + "svco-dp-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Three evaluation records (demo/mvc/eval.json's first three): with 2 or 4 ranks the last rank's
    /// share is padded with a duplicate, which must not count.
    static let evalFile: String = {
        let dir = folder("eval")
        let records = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/demo/mvc/eval.json")))) as? [Any] ?? []
        let path = dir + "/eval3.json"
        let data = (try? JSONSerialization.data(withJSONObject: Array(records.prefix(3)))) ?? Data()
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }()

    /// `svco train` flags of these runs (images resolve against demo/mvc, where both files' paths point).
    static func trainFlags(_ family: Family, out: String, batch: Int, accumulation: Int, steps: Int, extra: [String] = [],
                           timeout: Int = 60) -> [String] {
        ["train", "--model-name-or-path", family.model, "--dataset-path", root + "/demo/mvc/train.json",
         "--eval-dataset-path", evalFile, "--image-root", root + "/demo/mvc", "--output-dir", out,
         "--model-max-length", String(family.maxLength),
         "--per-device-train-batch-size", String(batch), "--gradient-accumulation-steps", String(accumulation),
         "--max-steps", String(steps), "--learning-rate", "1", "--adam-epsilon", "1", "--lr-scheduler-type", "cosine",
         "--warmup-ratio", "0", "--max-grad-norm", "0.1", "--logging-steps", "1", "--eval-steps", "1", "--save-steps", "1", "--report-to", "none",
         "--threads", "1", "--ddp-timeout", String(timeout)] + extra
    }

    /// One process (no launcher).
    static func single(_ flags: [String]) throws -> Ranks.Output {
        try Ranks.run(Ranks.svco, flags)
    }

    /// `svco launch --nproc-per-node world -- svco <flags>`.
    static func launched(_ world: Int, _ flags: [String]) throws -> Ranks.Output {
        try Ranks.run(Ranks.svco, ["launch", "--nproc-per-node", String(world), "--master-port", String(Ranks.freePort()), "--",
                                   Ranks.svco] + flags)
    }

    static func metrics(_ out: String) throws -> [[String: Double]] {
        let text = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
    }

    /// The logged training line of `step` and its evaluation line.
    static func lines(_ log: [[String: Double]], step: Int) -> (train: [String: Double], eval: [String: Double]) {
        let at = log.filter { $0["step"] == Double(step) }
        return (at.first { $0["loss"] != nil } ?? [:], at.first { $0["eval_loss"] != nil } ?? [:])
    }

    /// Every number of `a` equals `b`'s within 1e-5 relative to the larger of the two values and the
    /// line's log-prob scale (the size of the sums every metric is derived from).
    static func expectClose(_ a: [String: Double], _ b: [String: Double], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Set(a.keys) == Set(b.keys), "\(what): keys differ: \(Set(a.keys).symmetricDifference(b.keys))", sourceLocation: sourceLocation)
        let scale = b.filter { $0.key.contains("logps/") }.map { abs($0.value) }.max() ?? 1
        for (key, value) in b {
            guard let other = a[key] else { continue }
            let bound = 1e-5 * max(abs(value), abs(other), key.contains("logps/") || key.contains("rewards") || key.contains("margin")
                                   || key.contains("logratios") ? scale : 0)
            #expect(abs(other - value) <= bound, "\(what) \(key): \(other) vs \(value) (bound \(bound))", sourceLocation: sourceLocation)
        }
    }

    /// The weights of `a` equal `b`'s: each tensor's change from `start` agrees within 1e-5 of its
    /// largest change (plus float32 rounding of the weights themselves), and the step moved them.
    static func expectSameStep(_ a: String, _ b: String, from start: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (fa, fb, f0) = (try SafetensorsFile(path: a), try SafetensorsFile(path: b), try SafetensorsFile(path: start))
        #expect(Set(fa.names) == Set(fb.names), sourceLocation: sourceLocation)
        var moved = 0
        for name in fb.names {
            let wb = try fb.tensor(name).to(.float64), w0 = try f0.tensor(name).to(.float64)
            let wa = try fa.tensor(name).to(.float64)
            let change = (wb - w0).abs().max().item().doubleValue
            if change > 0 { moved += 1 }
            let rounding = 0x1p-23 * w0.abs().max().item().doubleValue
            let diff = (wa - wb).abs().max().item().doubleValue
            #expect(diff <= 1e-5 * change + rounding, "\(name): differs by \(diff), its step is \(change)", sourceLocation: sourceLocation)
        }
        #expect(moved > 10, "the step moved \(moved) tensors", sourceLocation: sourceLocation)
    }

    static func expectSucceeded(_ o: Ranks.Output, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(o.status == 0, "\(what): \(o.text)", sourceLocation: sourceLocation)
    }

    // MARK: 2 ranks × batch 1 = 1 process × batch 2

    @Test(arguments: families) func twoRanksEqualOneProcessWithTheirBatch(_ family: Family) throws {
        let single = Self.folder("single-\(family)")
        Self.expectSucceeded(try Self.single(Self.trainFlags(family, out: single, batch: 2, accumulation: 1, steps: 2)), "one process")
        let reference = try Self.metrics(single)
        let step1 = Self.lines(reference, step: 1)
        #expect((step1.train["grad_norm"] ?? 0) > 0.1, "clipping is active (max_grad_norm 0.1): \(step1.train)")
        for stage in 0...3 {
            let out = Self.folder("ranks-\(family)-\(stage)")
            let run = try Self.launched(2, Self.trainFlags(family, out: out, batch: 1, accumulation: 1, steps: 2,
                                                           extra: ["--zero-stage", String(stage)]))
            Self.expectSucceeded(run, "2 ranks, ZeRO-\(stage)")
            #expect(run.text.contains("data parallel: 2 ranks (gloo), ZeRO stage \(stage), global batch 2"), "\(run.text)")
            // Rank 0 alone prints progress.
            #expect(run.text.components(separatedBy: "step 1/2").count == 2, "\(run.text)")
            let log = try Self.metrics(out)
            #expect(log.count == reference.count, "ZeRO-\(stage): \(log.count) lines vs \(reference.count)")
            for step in 1...2 {
                let (train, eval) = Self.lines(log, step: step)
                let expected = Self.lines(reference, step: step)
                Self.expectClose(train, expected.train, "ZeRO-\(stage) step \(step)")
                Self.expectClose(eval, expected.eval, "ZeRO-\(stage) eval at step \(step)")
            }
            // Weights after step 1 (checkpoint) and after step 2 (the final model).
            try Self.expectSameStep(out + "/checkpoint-1/model.safetensors", single + "/checkpoint-1/model.safetensors",
                                    from: family.model + "/model.safetensors")
            try Self.expectSameStep(out + "/model.safetensors", single + "/model.safetensors", from: family.model + "/model.safetensors")
            let optimizerFiles = stage == 0 ? ["optimizer.safetensors"]
                : ["optimizer/zero-rank-00000-of-00002.safetensors", "optimizer/zero-rank-00001-of-00002.safetensors"]
            for file in optimizerFiles {
                #expect(FileManager.default.fileExists(atPath: out + "/checkpoint-2/" + file), "ZeRO-\(stage): \(file)")
            }
            if stage == 3 {
                try Self.expectShardedBlocks(run.text, world: 2, backwardPasses: 2)
                // The ZeRO-3 checkpoint of step 1 continues in one process to the same weights.
                let resumed = Self.folder("resumed-from-zero3-\(family)")
                let again = try Self.single(Self.trainFlags(family, out: resumed, batch: 2, accumulation: 1, steps: 2,
                                                            extra: ["--resume-from-checkpoint", out + "/checkpoint-1"]))
                Self.expectSucceeded(again, "one process resumed from ZeRO-3")
                try Self.expectSameStep(resumed + "/model.safetensors", single + "/model.safetensors", from: family.model + "/model.safetensors")
                try? FileManager.default.removeItem(atPath: resumed)
            }
            try? FileManager.default.removeItem(atPath: out)
        }
        try? FileManager.default.removeItem(atPath: single)
    }

    /// ZeRO-3's lines: this rank holds its share of the blocks' values (1/W, plus padding of under W
    /// values per flat group), never more than one block was whole at a time, and each trained
    /// parameter outside blocks had its gradient reduced by its hook once per backward pass (one per
    /// micro-batch), none left for the optimiser step.
    static func expectShardedBlocks(_ text: String, world: Int, backwardPasses: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let resident = text.split(separator: "\n").first { $0.hasPrefix("ZeRO-3: gradients of the ") }
        let counts = resident.map { $0.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) } } ?? []
        // "ZeRO-3: gradients of the P trained parameters outside blocks reduced B times during backward passes, S at optimiser steps"
        #expect(counts.count == 4 && counts[1] > 0 && counts[2] == counts[1] * backwardPasses && counts[3] == 0,
                "\(resident ?? "no resident line in \(text)")", sourceLocation: sourceLocation)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ZeRO-3: rank 0 holds ") }) else {
            Issue.record("no ZeRO-3 line in \(text)", sourceLocation: sourceLocation)
            return
        }
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        // "ZeRO-3: rank 0 holds H of the blocks' T parameter values; at most P block(s) whole at a time,
        //  G block gathers (A started ahead, while the block before computed)"
        #expect(numbers.count == 7, "\(line)", sourceLocation: sourceLocation)
        guard numbers.count == 7 else { return }
        let (held, whole, peak, gathers, ahead) = (numbers[2], numbers[3], numbers[4], numbers[5], numbers[6])
        #expect(held * world >= whole && held * world < whole + 64 * world, "\(line)", sourceLocation: sourceLocation)
        // The block computing and the next one's gather in flight; every gather but each pass's first
        // (per layered module) started ahead — with these 2-layer models, half of them.
        #expect(peak == 2 && ahead > 0 && ahead < gathers, "\(line)", sourceLocation: sourceLocation)
    }

    // MARK: 4 ranks × batch 1 = 1 process × batch 4, accumulation 2, 3 steps

    @Test(arguments: [2, 3]) func fourRanksWithAccumulationEqualOneProcess(stage: Int) throws {
        let family = Self.families[0]
        let single = Self.folder("single4")
        let flags = ["--save-steps", "0", "--eval-steps", "3"]
        Self.expectSucceeded(try Self.single(Self.trainFlags(family, out: single, batch: 4, accumulation: 2, steps: 3, extra: flags)), "one process")
        let out = Self.folder("ranks4")
        let run = try Self.launched(4, Self.trainFlags(family, out: out, batch: 1, accumulation: 2, steps: 3,
                                                       extra: flags + ["--zero-stage", String(stage)]))
        Self.expectSucceeded(run, "4 ranks")
        if stage == 3 { try Self.expectShardedBlocks(run.text, world: 4, backwardPasses: 6) }
        let (a, b) = (try Self.metrics(out), try Self.metrics(single))
        for step in 1...3 {
            Self.expectClose(Self.lines(a, step: step).train, Self.lines(b, step: step).train, "step \(step)")
        }
        Self.expectClose(Self.lines(a, step: 3).eval, Self.lines(b, step: 3).eval, "eval")
        #expect(Self.lines(b, step: 3).train["learning_rate"] == Self.lines(a, step: 3).train["learning_rate"])
        try Self.expectSameStep(out + "/model.safetensors", single + "/model.safetensors", from: family.model + "/model.safetensors")
        try? FileManager.default.removeItem(atPath: out)
        try? FileManager.default.removeItem(atPath: single)
    }

    // MARK: save at 2 ranks (ZeRO-2), resume at 1 and at 4

    @Test func aZeroTwoCheckpointResumesAtOneAndFourRanks() throws {
        let family = Self.families[1]
        // Global batch 4 everywhere: 2 ranks × 1 × 2, 1 × 2 × 2, 4 × 1 × 1.
        let full = Self.folder("uninterrupted")
        Self.expectSucceeded(try Self.launched(2, Self.trainFlags(family, out: full, batch: 1, accumulation: 2, steps: 4,
                                                                  extra: ["--zero-stage", "2", "--save-steps", "2"])), "uninterrupted")
        let saved = full + "/checkpoint-2"
        #expect(FileManager.default.fileExists(atPath: saved + "/optimizer/zero-rank-00001-of-00002.safetensors"))
        // At 4 ranks under ZeRO-3: ZeRO-2's file layout read into per-block shards.
        let resumes: [(world: Int, batch: Int, accumulation: Int, stage: Int)] = [(1, 2, 2, 0), (4, 1, 1, 3)]
        for r in resumes {
            let out = Self.folder("resumed-\(r.world)")
            let flags = Self.trainFlags(family, out: out, batch: r.batch, accumulation: r.accumulation, steps: 4,
                                        extra: ["--zero-stage", String(r.stage), "--save-steps", "2", "--resume-from-checkpoint", saved])
            let run = r.world == 1 ? try Self.single(flags) : try Self.launched(r.world, flags)
            Self.expectSucceeded(run, "resumed at \(r.world) rank(s)")
            #expect(run.text.contains("resumed from \(saved) at step 2"), "\(run.text)")
            try Self.expectSameStep(out + "/model.safetensors", full + "/model.safetensors", from: saved + "/model.safetensors")
            Self.expectClose(Self.lines(try Self.metrics(out), step: 4).train, Self.lines(try Self.metrics(full), step: 4).train,
                             "step 4 resumed at \(r.world)")
            try? FileManager.default.removeItem(atPath: out)
        }
        try? FileManager.default.removeItem(atPath: full)
    }

    // MARK: ZeRO-3 under autocast: what autocast rounds anyway travels (and rests) in its dtype

    /// Under `--bf16` the frozen reference's linear layers are held in bfloat16 (see
    /// MixedPrecisionTests); ZeRO-3's shards of its blocks keep that dtype, so rank 0's bfloat16 shard
    /// values are exactly its half of the decoder layers' linear weights and biases (hand-counted from
    /// the config: q, k, v, o, gate, up, down, and Qwen2's q/k/v biases). The trained blocks' linear
    /// layers are gathered in bfloat16 for the passes (most of what the gathers carry) but saved from
    /// their float32 masters. Both are exact: the step's metrics and the saved weights equal ZeRO-0's
    /// with the same split (a bfloat16-rounded weight would be off by ~2⁻⁹ of itself, far outside).
    @Test(arguments: families) func zeroThreeShardsTheReferenceInTheAutocastDType(_ family: Family) throws {
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: family.model + "/config.json"))) as? [String: Any]
        let text = config?["text_config"] as? [String: Any] ?? [:]
        let (h, i, layers) = (text["hidden_size"] as? Int ?? 0, text["intermediate_size"] as? Int ?? 0, text["num_hidden_layers"] as? Int ?? 0)
        let heads = text["num_attention_heads"] as? Int ?? 1
        let kv = (text["num_key_value_heads"] as? Int ?? heads) * (h / heads)
        let biases = text["model_type"] as? String == "qwen2" ? h + 2 * kv : 0
        let perLayer = 2 * h * h + 2 * h * kv + 3 * h * i + biases
        let expected = layers * ((perLayer + 1) / 2)  // each block's own flat part, padded to 2 ranks

        var runs: [Int: (text: String, log: [[String: Double]], out: String)] = [:]
        for stage in [0, 3] {
            let out = Self.folder("bf16-zero\(stage)-\(family)")
            let run = try Self.launched(2, Self.trainFlags(family, out: out, batch: 1, accumulation: 1, steps: 1,
                                                           extra: ["--zero-stage", String(stage), "--bf16", "--save-steps", "0"]))
            Self.expectSucceeded(run, "2 ranks, ZeRO-\(stage), --bf16")
            runs[stage] = (run.text, try Self.metrics(out), out)
        }
        defer { for run in runs.values { try? FileManager.default.removeItem(atPath: run.out) } }
        let shardLine = runs[3]?.text.split(separator: "\n").first { $0.hasPrefix("ZeRO-3: rank 0's block shards: ") } ?? ""
        #expect(shardLine.contains("\(expected) values in bfloat16"), "expected \(expected) bfloat16 values: \(runs[3]?.text ?? "")")
        #expect(runs[3]?.text.contains("their ZeRO-3 shards at half the bytes") == true, "\(runs[3]?.text ?? "")")
        let (sharded, whole) = (Self.lines(runs[3]?.log ?? [], step: 1), Self.lines(runs[0]?.log ?? [], step: 1))
        #expect(!whole.train.isEmpty)
        Self.expectClose(sharded.train, whole.train, "ZeRO-3 vs ZeRO-0 under --bf16, step 1")
        Self.expectClose(sharded.eval, whole.eval, "ZeRO-3 vs ZeRO-0 under --bf16, eval")
        try Self.expectSameStep((runs[3]?.out ?? "") + "/model.safetensors", (runs[0]?.out ?? "") + "/model.safetensors",
                                from: family.model + "/model.safetensors")
        // "ZeRO-3: the block gathers carried F values in float32, B values in bfloat16"
        let carried = runs[3]?.text.split(separator: "\n").first { $0.hasPrefix("ZeRO-3: the block gathers carried ") } ?? ""
        let values = carried.split(separator: " ").compactMap { Int($0) }
        #expect(values.count == 2 && values[1] > values[0] && carried.hasSuffix("values in bfloat16"), "\(carried)")
    }

    // MARK: AdamW's moments offloaded to the CPU

    /// `--offload-optimizer-device cpu` streams each rank's moments through the device at the step:
    /// the same kernel on the same values, so at every stage the two ranks end on bitwise the weights
    /// and the sharded optimizer files of the run without offload, and say where the moments are.
    @Test func offloadedMomentsGiveTheSameRunAtEveryStage() throws {
        let family = Self.families[0]
        for stage in 0...3 {
            var outs: [String] = []
            for offload in ["none", "cpu"] {
                let out = Self.folder("offload-\(offload)-\(stage)")
                let run = try Self.launched(2, Self.trainFlags(family, out: out, batch: 1, accumulation: 1, steps: 2,
                                                               extra: ["--zero-stage", String(stage), "--offload-optimizer-device", offload,
                                                                       "--eval-steps", "0", "--save-steps", "2", "--learning-rate", "1e-3",
                                                                       "--adam-epsilon", "1e-8"]))
                Self.expectSucceeded(run, "ZeRO-\(stage), offload \(offload)")
                #expect(run.text.contains("in CPU memory") == (offload == "cpu"), "\(run.text)")
                outs.append(out)
            }
            let files = ["model.safetensors"] + (stage == 0 ? ["checkpoint-2/optimizer.safetensors"]
                : (0..<2).map { "checkpoint-2/optimizer/zero-rank-0000\($0)-of-00002.safetensors" })
            for file in files {
                let (a, b) = (FileManager.default.contents(atPath: outs[0] + "/" + file), FileManager.default.contents(atPath: outs[1] + "/" + file))
                #expect(a != nil && a == b, "ZeRO-\(stage): \(file) differs with the moments offloaded")
            }
            for out in outs { try? FileManager.default.removeItem(atPath: out) }
        }
    }

    // MARK: reference log-probs precomputed by the ranks together

    @Test func precomputedReferenceLogProbsAreSharedByTheRanks() throws {
        let family = Self.families[0]
        let live = Self.folder("live")
        Self.expectSucceeded(try Self.launched(2, Self.trainFlags(family, out: live, batch: 1, accumulation: 1, steps: 2,
                                                                  extra: ["--zero-stage", "1", "--save-steps", "0"])), "live reference")
        let cached = Self.folder("cached")
        let run = try Self.launched(2, Self.trainFlags(family, out: cached, batch: 1, accumulation: 1, steps: 2,
                                                       extra: ["--zero-stage", "1", "--save-steps", "0", "--precompute-ref-log-probs"]))
        Self.expectSucceeded(run, "precomputed reference")
        #expect(run.text.contains("computing reference log-probs of 67 records (cc, rc, cr, rr, nc, nr) on 2 ranks"), "\(run.text)")
        // The three evaluation records are also training records: scored once.
        #expect(run.text.contains("reference log-probs: 0 records from the cache, 64 computed"), "\(run.text)")
        for step in 1...2 {
            Self.expectClose(Self.lines(try Self.metrics(cached), step: step).train, Self.lines(try Self.metrics(live), step: step).train,
                             "step \(step)")
        }
        // One process finds every value in the file the ranks wrote.
        let again = try Self.single(Self.trainFlags(family, out: cached, batch: 2, accumulation: 1, steps: 1,
                                                    extra: ["--save-steps", "0", "--precompute-ref-log-probs"]))
        #expect(again.status == 0 && again.text.contains("reference log-probs: 67 records from the cache, 0 computed"), "\(again.text)")
        try? FileManager.default.removeItem(atPath: live)
        try? FileManager.default.removeItem(atPath: cached)
    }

    // MARK: failures

    /// Ranks started by hand (no launcher, which would stop the survivors itself): rank 1 is killed with
    /// SIGKILL mid-run; rank 0 must stop by itself within the --ddp-timeout with an error naming the
    /// failed collective, leaving only complete checkpoints. Under ZeRO-3, where most collectives run
    /// inside the model's forward and backward passes (the block gathers).
    @Test func aKilledRankStopsTheOthersWithinTheTimeout() throws {
        let family = Self.families[0]
        let out = Self.folder("killed")
        let port = Ranks.freePort()
        let timeout = 20
        let flags = Self.trainFlags(family, out: out, batch: 1, accumulation: 1, steps: 100_000,
                                    extra: ["--eval-steps", "0", "--zero-stage", "3"], timeout: timeout)
        let ranks = try (0..<2).map { rank in
            try Ranks.start(Ranks.svco, flags, environment: [
                "RANK": String(rank), "WORLD_SIZE": "2", "LOCAL_RANK": String(rank), "LOCAL_WORLD_SIZE": "2",
                "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": String(port),
            ])
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while clock.now < deadline, !((try? String(contentsOfFile: ranks[0].1, encoding: .utf8)) ?? "").contains("step 3/") { usleep(50_000) }
        kill(ranks[1].0.processIdentifier, SIGKILL)
        let killedAt = clock.now
        let survivor = Ranks.finish(ranks[0].0, ranks[0].1, limit: .seconds(Int64(timeout) + 30))
        let stopped = clock.now - killedAt
        _ = Ranks.finish(ranks[1].0, ranks[1].1)
        #expect(survivor.reason == .exit && survivor.status == 1, "\(survivor.text)")
        #expect(survivor.text.contains("Error: rank 0 of 2: ") && survivor.text.contains("(gloo) failed"), "\(survivor.text)")
        #expect(stopped < .seconds(Int64(timeout) + 15), "stopped \(stopped) after the kill")
        // Every checkpoint folder is complete; no temporary folder is left behind by rank 0.
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
        let checkpoints = names.filter { $0.hasPrefix("checkpoint-") }
        #expect(!checkpoints.isEmpty)
        for name in checkpoints {
            for file in ["model.safetensors", "trainer_state.json", "optimizer/zero-rank-00000-of-00002.safetensors",
                         "optimizer/zero-rank-00001-of-00002.safetensors"] {
                #expect(FileManager.default.fileExists(atPath: out + "/" + name + "/" + file), "\(name)/\(file)")
            }
        }
        try? FileManager.default.removeItem(atPath: out)
    }

    @Test func aBusyPortIsAClearError() throws {
        let family = Self.families[0]
        let (fd, port) = try MultiProcessTests().listeningSocket()
        defer { close(fd) }
        let out = Self.folder("port")
        let run = try Ranks.run(Ranks.svco, Self.trainFlags(family, out: out, batch: 1, accumulation: 1, steps: 1), environment: [
            "RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": String(port),
        ])
        #expect(run.status == 1 && run.text.contains("Error: port \(port) on 127.0.0.1 is already in use"), "\(run.text)")
        #expect(!FileManager.default.fileExists(atPath: out + "/metrics.jsonl"))
        try? FileManager.default.removeItem(atPath: out)
    }
}
