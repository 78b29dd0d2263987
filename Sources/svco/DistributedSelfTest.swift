import Datasets
import Distributed
import Models
import NN
import Torch
import Training
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `svco selftest --distributed`: the data-parallel path on a device, through the CLI (the GPU machines
/// have no Swift toolchain, so test bundles cannot run there). Run it under a launcher —
/// `svco launch --nproc-per-node N -- svco selftest --distributed --device cuda` — or alone (a world of
/// one on a free port). Every rank checks:
///
/// 1. the process group comes up (Gloo on CPU tensors, NCCL on CUDA ones);
/// 2. every collective on tensors of the device against hand-computed values (exact: small integers);
/// 3. ZeRO-0, 1 and 2's optimisers over three clipped AdamW steps against one process's AdamW on the
///    ranks' mean gradients (1e-5);
/// 4. with a model folder and records (default demo/tiny-llava and demo/mvc/train.json, when present):
///    one `SVCOTrainer` step of the ranks, batch 1 each, at each stage 0–3, against one process's step with
///    batch W — loss, grad_norm, every train_ metric and the weights' change (1e-5 relative; the
///    metrics built from differences of log-probs relative to the log-probs' scale).
enum DistributedSelfTest {
    struct Outcome {
        var name: String
        var passed: Bool
        var detail: String
    }

    static func run(group: ProcessGroup, model: String?, data: String?, report: (Outcome) -> Void) -> [Outcome] {
        var outcomes: [Outcome] = []
        func record(_ name: String, _ body: () throws -> (Bool, String)) {
            let outcome: Outcome
            do {
                let (passed, detail) = try body()
                outcome = Outcome(name: name, passed: passed, detail: detail)
            } catch {
                outcome = Outcome(name: name, passed: false, detail: "\(error)")
            }
            report(outcome)
            outcomes.append(outcome)
        }
        record("process group") { (true, "rank \(group.rank) of \(group.worldSize), \(group.backend.rawValue), \(group.device)") }
        record("collectives on \(group.device)") { try collectives(group) }
        for stage in [ZeroStage.stage0, .stage1, .stage2] {
            record("\(stage) AdamW steps = one process") { try optimizerSteps(group, stage: stage) }
        }
        if let model, let data {
            for stage in ZeroStage.allCases {
                record("\(stage) training step = one process with batch \(group.worldSize)") {
                    try trainingStep(group, stage: stage, model: model, data: data)
                }
            }
        }
        return outcomes
    }

    // MARK: collectives

    static func collectives(_ pg: ProcessGroup) throws -> (Bool, String) {
        let d = pg.device
        let r = Double(pg.rank), w = pg.worldSize, wd = Double(pg.worldSize)
        let ranks = (0..<w).map(Double.init)
        let sumOfRanks = ranks.reduce(0, +)
        var failures: [String] = []
        func expect(_ name: String, _ got: Tensor, _ want: [Double]) {
            let values = got.to(.float64, device: .cpu).toArray(Double.self)
            if values != want { failures.append("\(name): \(values) ≠ \(want)") }
        }
        let sum = Tensor([Float(r + 1), Float(10 * (r + 1))]).to(device: d)
        try pg.allReduce(sum, .sum)
        expect("all_reduce sum", sum, [sumOfRanks + wd, 10 * (sumOfRanks + wd)])
        let avg = Tensor([Float(2 * r), Float(4 * r)]).to(device: d)
        try pg.allReduce(avg, .average)
        expect("all_reduce avg", avg, [2 * sumOfRanks / wd, 4 * sumOfRanks / wd])
        let mx = Tensor([Float(r), Float(-r)]).to(device: d)
        try pg.allReduce(mx, .max)
        expect("all_reduce max", mx, [wd - 1, 0])
        let mn = Tensor([Float(r), Float(-r)]).to(device: d)
        try pg.allReduce(mn, .min)
        expect("all_reduce min", mn, [0, -(wd - 1)])
        let product = Tensor([Float(r + 1)]).to(device: d)
        try pg.allReduce(product, .product)
        expect("all_reduce product", product, [ranks.map { $0 + 1 }.reduce(1, *)])
        let b = Tensor([Float(r * 100 + 1), Float(r * 100 + 2)]).to(device: d)
        try pg.broadcast(b, from: w - 1)
        expect("broadcast", b, [(wd - 1) * 100 + 1, (wd - 1) * 100 + 2])
        let gathered = Tensor.zeros([2 * w], device: d)
        try pg.allGather(into: gathered, Tensor([Float(r), Float(r) + 0.5]).to(device: d))
        expect("all_gather", gathered, ranks.flatMap { [$0, $0 + 0.5] })
        let input = Tensor((0..<(2 * w)).map { Float(r * 1000) + Float($0) }).to(device: d)
        let chunk = Tensor.zeros([2], device: d)
        try pg.reduceScatter(into: chunk, input, .sum)
        expect("reduce_scatter sum", chunk, [2 * r, 2 * r + 1].map { 1000 * sumOfRanks + wd * $0 })
        let double = Tensor([r, 2 * r]).to(device: d)  // float64, as the trainer's step readout
        try pg.allReduce(double, .average)
        expect("all_reduce avg (float64)", double, [sumOfRanks / wd, 2 * sumOfRanks / wd])
        let a1 = Tensor([Float(1)]).to(device: d), a2 = Tensor([Float(r)]).to(device: d)
        let w1 = try pg.allReduceAsync(a1, .sum), w2 = try pg.allReduceAsync(a2, .sum)
        try w1.wait()
        try w2.wait()
        expect("two in flight", Tensor.cat([a1, a2]), [wd, sumOfRanks])
        try pg.barrier()
        let flag = Tensor([Float(pg.rank == w - 1 ? 1 : 0)]).to(device: d)
        try pg.agreeOnFoundInf(flag)
        expect("found-inf agreement", flag, [1])
        let means = try pg.average(["a": r, "b": 2 * r])
        if means != ["a": sumOfRanks / wd, "b": 2 * sumOfRanks / wd] { failures.append("average: \(means)") }
        return failures.isEmpty ? (true, "all_reduce sum/avg/max/min/product, broadcast, all_gather, reduce_scatter, barrier, async, found-inf, average")
            : (false, failures.joined(separator: "; "))
    }

    // MARK: ZeRO optimisers

    /// Names decide the weight-decay group as in HF Trainer; bucket capacity 40 makes several buckets.
    static let shapes: [(String, [Int])] = [("layer.weight", [7, 5]), ("layer.bias", [5]), ("block.proj.weight", [3, 4, 2]),
                                            ("block.norm.weight", [6]), ("head.weight", [11]), ("head.bias", [1])]

    static func optimizerSteps(_ pg: ProcessGroup, stage: ZeroStage) throws -> (Bool, String) {
        let d = pg.device
        let settings = AdamW.Settings(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.02)
        func parameters() -> [(name: String, parameter: Parameter)] {
            let g = Generator(seed: 1234)
            return shapes.map { ($0.0, Parameter(Tensor.randn($0.1, generator: g).to(device: d))) }
        }
        // Rank q's gradient at step s: G(s) + (q − (W−1)/2)·D(s), so the ranks' mean is G(s).
        func gradients(step: Int, spread: Double) -> [Tensor] {
            let g = Generator(seed: UInt64(100 + step)), e = Generator(seed: UInt64(900 + step))
            return shapes.map { (Tensor.randn($0.1, generator: g) * 3.0 + Tensor.randn($0.1, generator: e) * spread).to(device: d) }
        }
        let reference = parameters()
        let local = AdamW(parameters: reference, settings: settings)
        var referenceNorms: [Double] = []
        for step in 1...3 {
            for (p, g) in zip(reference, gradients(step: step, spread: 0)) { p.parameter.value.grad = g }
            referenceNorms.append(local.clipGradients(maxNorm: 4))
            local.step(lr: 0.01 * Double(step))
            local.zeroGradients()
        }
        let params = parameters()
        let spread = Double(pg.rank) - Double(pg.worldSize - 1) / 2
        var norms: [Double] = []
        let averaged = stage == .stage0 ? AdamW(parameters: params, settings: settings) : nil
        let averager = stage == .stage0 ? GradientAverager(parameters: params.map(\.parameter), group: pg, bucketCapacity: 40) : nil
        let sharded = stage == .stage0 ? nil : ShardedAdamW(parameters: params.map { ($0.name, $0.parameter, AdamW.decays($0.name)) },
                                                           beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.02, group: pg, stage: stage,
                                                           bucketCapacity: 40)
        for step in 1...3 {
            for (p, g) in zip(params, gradients(step: step, spread: spread)) { p.parameter.value.grad = g }
            if let averaged, let averager {
                try averager.averageGradients()
                norms.append(averaged.clipGradients(maxNorm: 4))
                averaged.step(lr: 0.01 * Double(step))
                averaged.zeroGradients()
            } else if let sharded {
                try sharded.reduceGradients()
                norms.append(try sharded.clipGradients(maxNorm: 4))
                try sharded.step(lr: 0.01 * Double(step))
                sharded.zeroGradients()
            }
        }
        let weights = zip(params, reference).map { ($0.parameter.value - $1.parameter.value).abs().max().item().doubleValue }.max() ?? .nan
        let normError = zip(norms, referenceNorms).map { abs($0 - $1) / $1 }.max() ?? .nan
        let clipped = referenceNorms.allSatisfy { $0 > 4 }
        return (weights <= 1e-5 && normError <= 1e-5 && clipped,
                "weights within \(weights), grad norms within \(normError) relative (clipping active: \(clipped))")
    }

    // MARK: a trainer step

    static func trainingStep(_ pg: ProcessGroup, stage: ZeroStage, model: String, data: String) throws -> (Bool, String) {
        let device = pg.device
        let scratch = FileManager.default.temporaryDirectory.path + "/svco-selftest-\(getpid())-\(stage.rawValue)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var args = TrainingArguments()
        args.modelNameOrPath = model
        args.datasetPath = data
        args.learningRate = 1e-2
        args.adamEpsilon = 1  // the update nearly linear in the gradient: a wrong gradient shows in the weights
        args.lrSchedulerType = .constant
        args.warmupRatio = 0
        args.gradientAccumulationSteps = 1
        args.maxSteps = 1
        args.evalStrategy = .no
        args.saveStrategy = .no
        args.reportTo = [.none]
        args.zeroStage = stage.rawValue
        let records = try MVCDataset(file: data).records

        func step(group: ProcessGroup?, batch: Int, output: String) throws -> (line: [String: Double], weights: [String: Tensor], start: [String: Tensor]) {
            var a = args
            a.perDeviceTrainBatchSize = batch
            a.outputDir = output
            Torch.manualSeed(a.seed)
            let policy = try ModelRegistry.load(directory: model, dtype: .float32, device: device)
            let reference = try ModelRegistry.load(directory: model, dtype: .float32, device: device, sharingVisionTowerOf: policy)
            let builder = try ModelInputs.batchBuilder(modelDirectory: model, model: policy, maxLength: a.modelMaxLength)
            let start = policy.stateDict().mapValues { $0.to(.float64, device: .cpu) }
            let trainer = try SVCOTrainer(args: a, modelDirectory: model, policy: policy, reference: reference, builder: builder,
                                          train: records, eval: [], loss: a.loss.make(a), resume: false, group: group)
            var line: [String: Double] = [:]
            try trainer.train { if case .logged(let l) = $0 { line = l } }
            // Under ZeRO-3 only rank 0 sees every weight whole (the others' blocks stay released).
            var weights: [String: Tensor] = [:]
            try trainer.optimizer.withWholeWeights {
                guard group == nil || trainer.optimizer.zero3 == nil || pg.isMain else { return }
                weights = policy.stateDict().mapValues { $0.to(.float64, device: .cpu) }
            }
            return (line, weights, start)
        }
        // Every rank computes the one-process step itself (deterministic), then its share of the ranks' step.
        let single = try step(group: nil, batch: pg.worldSize, output: scratch + "/single-rank\(pg.rank)")
        let ranks = try step(group: pg, batch: 1, output: scratch + "/ranks")
        var failures: [String] = []
        let scale = single.line.filter { $0.key.contains("logps/") }.map { abs($0.value) }.max() ?? 1
        for (key, want) in single.line where key != "epoch" {
            guard let got = ranks.line[key] else {
                failures.append("\(key) missing")
                continue
            }
            let derived = key.contains("logps/") || key.contains("rewards") || key.contains("margin") || key.contains("logratios")
            if abs(got - want) > 1e-5 * max(abs(got), abs(want), derived ? scale : 0) { failures.append("\(key) \(got) vs \(want)") }
        }
        var worst = 0.0
        for (name, want) in single.weights where !ranks.weights.isEmpty {
            guard let got = ranks.weights[name], let start = single.start[name] else {
                failures.append("\(name) missing")
                continue
            }
            let change = (want - start).abs().max().item().doubleValue
            let diff = (got - want).abs().max().item().doubleValue
            let allowed = 1e-5 * change + 0x1p-23 * start.abs().max().item().doubleValue
            if diff > allowed { failures.append("\(name) differs by \(diff) (step \(change))") }
            worst = max(worst, change > 0 ? diff / change : 0)
        }
        let detail = "loss \(ranks.line["loss"] ?? .nan) vs \(single.line["loss"] ?? .nan), grad_norm \(ranks.line["grad_norm"] ?? .nan) vs "
            + "\(single.line["grad_norm"] ?? .nan), \(single.line.count) logged values, "
            + (ranks.weights.isEmpty ? "weights compared on rank 0" : "weights' change within \(worst) relative")
        return failures.isEmpty ? (true, detail) : (false, failures.prefix(5).joined(separator: "; "))
    }
}
