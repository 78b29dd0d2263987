// One rank of DistributedTests' multi-process scenarios. DistributedTests (or `svco launch`) starts
// several with torchrun's environment; each prints `RESULT <name> <v1,v2,...>` lines the tests check
// against hand-computed values, or `ERROR <message>` and a non-zero exit.
import Distributed
import NN
import Torch
import Training
#if canImport(Glibc)
import Glibc
#endif

Torch.threads = 1

/// Prints and flushes at once: output goes to a file, and some ranks end by SIGKILL or get killed.
func emit(_ line: String) {
    print(line)
    fflush(nil)
}

func result(_ name: String, _ values: [Double]) {
    emit("RESULT \(name) " + values.map { "\($0)" }.joined(separator: ","))
}

func fail(_ message: String, code: Int32 = 3) -> Never {
    emit("ERROR \(message)")
    exit(code)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let scenario = arguments.first else { fail("usage: svco-dist-worker SCENARIO [ARGS]", code: 64) }
let timeoutMs = Int(LaunchEnvironment.processEnvironment()["WORKER_TIMEOUT_MS"] ?? "") ?? 20_000

func join() -> ProcessGroup {
    do {
        guard let env = try LaunchEnvironment.current() else { fail("no launch environment", code: 64) }
        return try ProcessGroup.join(env, device: .cpu, timeout: .milliseconds(timeoutMs), glooThreads: 1)
    } catch {
        fail("\(error)", code: 2)
    }
}

// MARK: the tiny model of the optimizer scenarios

/// Names decide the weight-decay group as in HF Trainer (biases and norms take none).
let modelShapes: [(String, [Int])] = [
    ("layer.weight", [7, 5]), ("layer.bias", [5]), ("block.proj.weight", [3, 4, 2]), ("block.norm.weight", [6]),
    ("head.weight", [11]), ("head.bias", [1]),
]

func makeParameters() -> [(name: String, parameter: Parameter)] {
    let generator = Generator(seed: 1234)
    return modelShapes.map { name, shape in (name, Parameter(Tensor.randn(shape, generator: generator))) }
}

/// Rank `rank`'s gradient at `step` in a world of `world`: G(step) + (rank - (world-1)/2)·D(step), so
/// that the ranks' mean is G(step) at every world size.
func gradients(step: Int, rank: Int, world: Int) -> [Tensor] {
    let g = Generator(seed: UInt64(100 + step))
    let d = Generator(seed: UInt64(900 + step))
    return modelShapes.map { _, shape in
        let base = Tensor.randn(shape, generator: g) * 3.0
        let spread = Tensor.randn(shape, generator: d)
        return base + spread * (Double(rank) - Double(world - 1) / 2)
    }
}

func meanGradients(step: Int) -> [Tensor] {
    let g = Generator(seed: UInt64(100 + step))
    return modelShapes.map { _, shape in Tensor.randn(shape, generator: g) * 3.0 }
}

let settings = AdamW.Settings(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.02)
let maxNorm = 4.0
let bucketCapacity = 40

/// The single-process reference: AdamW on the mean gradients, clipped.
func referenceRun(steps: Int) -> (params: [(name: String, parameter: Parameter)], optimizer: AdamW, norms: [Double]) {
    let params = makeParameters()
    let optimizer = AdamW(parameters: params, settings: settings)
    var norms: [Double] = []
    for step in 1...steps {
        for (p, g) in zip(params, meanGradients(step: step)) { p.parameter.value.grad = g }
        norms.append(optimizer.clipGradients(maxNorm: maxNorm))
        optimizer.step(lr: 0.01 * Double(step))
        optimizer.zeroGradients()
    }
    return (params, optimizer, norms)
}

func maxDifference(_ a: [(name: String, parameter: Parameter)], _ b: [(name: String, parameter: Parameter)]) -> Double {
    zip(a, b).map { ($0.parameter.value - $1.parameter.value).abs().max().item().doubleValue }.max() ?? 0
}

/// A data-parallel run at `stage`: returns the norms; `parameters` are updated in place.
final class ParallelRun {
    let group: ProcessGroup
    let stage: ZeroStage
    let params: [(name: String, parameter: Parameter)]
    let adamw: AdamW?
    let averager: GradientAverager?
    let sharded: ShardedAdamW?

    init(group: ProcessGroup, stage: ZeroStage, params: [(name: String, parameter: Parameter)]) {
        self.group = group
        self.stage = stage
        self.params = params
        if stage == .stage0 {
            adamw = AdamW(parameters: params, settings: settings)
            averager = GradientAverager(parameters: params.map(\.parameter), group: group, bucketCapacity: bucketCapacity)
            sharded = nil
        } else {
            adamw = nil
            averager = nil
            sharded = ShardedAdamW(parameters: params.map { ($0.name, $0.parameter, AdamW.decays($0.name)) },
                                   beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps, weightDecay: settings.weightDecay,
                                   group: group, stage: stage, bucketCapacity: bucketCapacity)
        }
    }

    func step(_ step: Int) throws -> Double {
        for (p, g) in zip(params, gradients(step: step, rank: group.rank, world: group.worldSize)) { p.parameter.value.grad = g }
        let lr = 0.01 * Double(step)
        if let adamw, let averager {
            try averager.averageGradients()
            let norm = adamw.clipGradients(maxNorm: maxNorm)
            adamw.step(lr: lr)
            adamw.zeroGradients()
            return norm
        }
        guard let sharded else { fail("no optimizer") }
        try sharded.reduceGradients()
        if stage == .stage2 {
            // Stage 2 keeps no full gradient on any parameter.
            if params.contains(where: { $0.parameter.value.grad != nil }) { fail("stage 2 left a full gradient behind") }
        }
        let norm = try sharded.clipGradients(maxNorm: maxNorm)
        try sharded.step(lr: lr)
        sharded.zeroGradients()
        return norm
    }
}

func stateDifference(_ state: [String: Tensor], _ reference: [String: Tensor]) -> Double {
    var worst = 0.0
    for (key, ref) in reference {
        guard let t = state[key] else { fail("state lacks \(key)") }
        worst = max(worst, (t.reshape(ref.shape) - ref).abs().max().item().doubleValue)
    }
    return worst
}

func parametersFile(_ params: [(name: String, parameter: Parameter)]) -> [String: Tensor] {
    Dictionary(uniqueKeysWithValues: params.map { ($0.name, $0.parameter.value.detach()) })
}

do {
    switch scenario {
    case "collectives":
        let pg = join()
        let r = Double(pg.rank), w = pg.worldSize
        let sum = Tensor([Float(r + 1), Float(10 * (r + 1))])
        try pg.allReduce(sum, .sum)
        result("all_reduce_sum", sum.toArray(Float.self).map(Double.init))
        let avg = Tensor([r, 2 * r + 1])
        try pg.allReduce(avg, .average)
        result("all_reduce_avg", avg.toArray(Double.self))
        let mx = Tensor([Float(r), Float(-r)])
        try pg.allReduce(mx, .max)
        result("all_reduce_max", mx.toArray(Float.self).map(Double.init))
        let root = w - 1
        let b = Tensor([Float(r * 100 + 1), Float(r * 100 + 2), Float(r * 100 + 3)])
        try pg.broadcast(b, from: root)
        result("broadcast", b.toArray(Float.self).map(Double.init))
        let gathered = Tensor.zeros([2 * w])
        try pg.allGather(into: gathered, Tensor([Float(r), Float(r) + 0.5]))
        result("all_gather", gathered.toArray(Float.self).map(Double.init))
        let input = Tensor((0..<(2 * w)).map { Float(r * 1000) + Float($0) })
        let chunk = Tensor.zeros([2])
        try pg.reduceScatter(into: chunk, input, .sum)
        result("reduce_scatter_sum", chunk.toArray(Float.self).map(Double.init))
        let chunkAvg = Tensor.zeros([2])
        try pg.reduceScatter(into: chunkAvg, input, .average)
        result("reduce_scatter_avg", chunkAvg.toArray(Float.self).map(Double.init))
        // Two collectives in flight at once, waited for in order.
        let a1 = Tensor([Float(1)]), a2 = Tensor([Float(r)])
        let w1 = try pg.allReduceAsync(a1, .sum), w2 = try pg.allReduceAsync(a2, .sum)
        try w1.wait()
        try w2.wait()
        result("async_pair", [Double(a1.toArray(Float.self)[0]), Double(a2.toArray(Float.self)[0])])
        try pg.barrier()
        let metrics = try pg.average(["loss": r, "acc": 2 * r])
        result("metrics", [metrics["acc"] ?? .nan, metrics["loss"] ?? .nan])
        result("found_inf", [try pg.any(pg.rank == 1) ? 1 : 0, try pg.any(false) ? 1 : 0])
        let flag = Tensor([Float(pg.rank == w - 1 ? 1 : 0)])
        try pg.agreeOnFoundInf(flag)
        result("found_inf_tensor", [Double(flag.toArray(Float.self)[0])])
        do {
            _ = try pg.average(pg.rank == 0 ? ["loss": 1] : ["loss": 1, "extra": 2])
            result("metric_mismatch", [0])
        } catch DistributedError.mismatch {
            result("metric_mismatch", [1])
        }
        emit("DONE")

    case "die":
        // The last rank dies by SIGKILL after a first collective; the others' next one must fail.
        let pg = join()
        try pg.barrier()
        if pg.rank == pg.worldSize - 1 { raise(SIGKILL) }
        usleep(300_000)
        let start = ContinuousClock.now
        do {
            let t = Tensor([Float(1)])
            try pg.allReduce(t, .sum)
            try pg.allReduce(t, .sum)
            emit("NOERROR")
        } catch {
            let elapsed = ContinuousClock.now - start
            emit("ELAPSED \(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)")
            fail("\(error)", code: 4)
        }

    case "join":
        let pg = join()
        try pg.barrier()
        emit("JOINED \(pg.rank) \(pg.worldSize)")

    case "optimizer":
        // ZeRO stage S over `steps` steps against the single-process AdamW on the mean gradients.
        guard arguments.count >= 3, let stageNumber = Int(arguments[1]), let steps = Int(arguments[2]) else {
            fail("usage: optimizer STAGE STEPS", code: 64)
        }
        let stage = try ZeroStage(number: stageNumber, source: "stage")
        let pg = join()
        let run = ParallelRun(group: pg, stage: stage, params: makeParameters())
        var norms: [Double] = []
        for step in 1...steps { norms.append(try run.step(step)) }
        let reference = referenceRun(steps: steps)
        result("param_max_diff", [maxDifference(run.params, reference.params)])
        result("norm_max_rel_diff", [zip(norms, reference.norms).map { abs($0 - $1) / $1 }.max() ?? 0])
        result("norms", norms)
        if let sharded = run.sharded {
            result("state_max_diff", [stateDifference(try sharded.consolidatedState(), reference.optimizer.stateDict())])
        }
        emit("DONE")

    case "in-backward":
        // ZeRO-2 from real backward passes: each step is two micro-batches whose losses Σ ½·p·g_r give
        // rank r's gradient g_r in sum. The hooks must reduce every bucket inside the backward pass (no
        // `.grad` left behind it), and the run must equal the single-process AdamW on the mean gradients.
        guard arguments.count >= 2, let steps = Int(arguments[1]) else { fail("usage: in-backward STEPS", code: 64) }
        let pg = join()
        let params = makeParameters()
        for p in params { p.parameter.setTrainable(true) }
        let run = ParallelRun(group: pg, stage: .stage2, params: params)
        guard let sharded = run.sharded else { fail("no optimizer") }
        var norms: [Double] = [], gradientsLeft = 0
        for step in 1...steps {
            let targets = gradients(step: step, rank: pg.rank, world: pg.worldSize)
            for _ in 0..<2 {
                let loss = zip(run.params, targets).map { ($0.parameter.value * ($1 * 0.5)).sum() }.reduce(Tensor.zeros([]), +)
                loss.backward()
                gradientsLeft += run.params.filter { $0.parameter.value.grad != nil }.count
                try sharded.finishBackward()
            }
            try sharded.reduceGradients()
            norms.append(try sharded.clipGradients(maxNorm: maxNorm))
            try sharded.step(lr: 0.01 * Double(step))
            sharded.zeroGradients()
        }
        let reference = referenceRun(steps: steps)
        result("gradients_left_after_backward", [Double(gradientsLeft)])
        result("param_max_diff", [maxDifference(run.params, reference.params)])
        result("norm_max_rel_diff", [zip(norms, reference.norms).map { abs($0 - $1) / $1 }.max() ?? 0])
        emit("DONE")

    case "reduction-order":
        // Two same-sized parameters in buckets of their own, whose backward passes rank 1 runs in the
        // opposite order: the reduce-scatters pair unrelated buckets, which the step must refuse.
        let pg = join()
        let params = ["a.weight", "b.weight"].map { (name: $0, parameter: Parameter(Tensor.ones([8]).requiresGrad(true))) }
        let sharded = ShardedAdamW(parameters: params.map { ($0.name, $0.parameter, true) },
                                   beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps, weightDecay: settings.weightDecay,
                                   group: pg, stage: .stage2, bucketCapacity: 8)
        let order = pg.rank == 0 ? [0, 1] : [1, 0]
        for i in order { (params[i].parameter.value * 2.0).sum().backward() }
        try sharded.finishBackward()
        do {
            try sharded.reduceGradients()
            result("order_mismatch", [0])
        } catch DistributedError.mismatch(_, let reason) {
            emit("MISMATCH \(reason)")
            result("order_mismatch", [1])
        }
        emit("DONE")

    case "reshard-save":
        // Two steps at this world size, save; rank 0 also writes the consolidated state, the weights
        // and the weights after an uninterrupted third step.
        guard arguments.count >= 3, let stageNumber = Int(arguments[1]) else { fail("usage: reshard-save STAGE DIR", code: 64) }
        let dir = arguments[2]
        let pg = join()
        let run = ParallelRun(group: pg, stage: try ZeroStage(number: stageNumber, source: "stage"), params: makeParameters())
        guard let sharded = run.sharded else { fail("re-sharding needs stage 1 or 2") }
        _ = try run.step(1)
        _ = try run.step(2)
        try sharded.saveState(to: dir + "/optimizer")
        let consolidated = try sharded.consolidatedState()
        if pg.isMain {
            try SafetensorsWriter.write(consolidated, to: dir + "/consolidated.safetensors")
            try SafetensorsWriter.write(parametersFile(run.params), to: dir + "/params.safetensors")
        }
        _ = try run.step(3)
        if pg.isMain { try SafetensorsWriter.write(parametersFile(run.params), to: dir + "/params-step3.safetensors") }
        try pg.barrier()
        emit("DONE")

    case "reshard-load":
        guard arguments.count >= 3, let stageNumber = Int(arguments[1]) else { fail("usage: reshard-load STAGE DIR", code: 64) }
        let dir = arguments[2]
        let pg = join()
        let saved = try SafetensorsFile(path: dir + "/params.safetensors")
        let params = try modelShapes.map { name, _ in (name: name, parameter: Parameter(try saved.tensor(name).clone())) }
        let run = ParallelRun(group: pg, stage: try ZeroStage(number: stageNumber, source: "stage"), params: params)
        guard let sharded = run.sharded else { fail("re-sharding needs stage 1 or 2") }
        try sharded.loadState(from: dir + "/optimizer")
        let consolidated = try SafetensorsFile(path: dir + "/consolidated.safetensors").tensors()
        result("loaded_state_max_diff", [stateDifference(try sharded.consolidatedState(), consolidated)])
        _ = try run.step(3)
        let uninterrupted = try SafetensorsFile(path: dir + "/params-step3.safetensors")
        let expected = try modelShapes.map { name, _ in (name: name, parameter: Parameter(try uninterrupted.tensor(name))) }
        result("step3_param_max_diff", [maxDifference(run.params, expected)])
        emit("DONE")

    case "scaler":
        // fp16 under ZeRO-2: rank 1's gradient holds an inf in the first element; after the reduce-scatter
        // only the rank owning that chunk (rank 0) sees it, until the ranks agree through GradScaler's seam.
        let pg = join()
        let params = makeParameters()
        let sharded = ShardedAdamW(parameters: params.map { ($0.name, $0.parameter, AdamW.decays($0.name)) },
                                   beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps, weightDecay: settings.weightDecay,
                                   group: pg, stage: .stage2, bucketCapacity: bucketCapacity)
        for (p, g) in zip(params, gradients(step: 1, rank: pg.rank, world: pg.worldSize)) { p.parameter.value.grad = g }
        if pg.rank == 1 { params[0].parameter.value.grad?.reshape([-1]).narrow(0, start: 0, length: 1).fill_(Scalar(Double.infinity)) }
        let scaler = GradScaler()
        try sharded.reduceGradients()
        scaler.unscale(sharded.shardGradients)
        let local = scaler.foundInf
        try scaler.agreeOnFoundInf { try pg.agreeOnFoundInf($0) }
        result("found_inf", [local ? 1 : 0, scaler.foundInf ? 1 : 0])
        emit("DONE")

    case "launched":
        // For `svco launch` tests: report the environment; rank FAIL_RANK fails as told, the others wait.
        let env = LaunchEnvironment.processEnvironment()
        emit("ENV rank=\(env["RANK"] ?? "-") local=\(env["LOCAL_RANK"] ?? "-") world=\(env["WORLD_SIZE"] ?? "-") local_world=\(env["LOCAL_WORLD_SIZE"] ?? "-") addr=\(env["MASTER_ADDR"] ?? "-") port=\(env["MASTER_PORT"] ?? "-")")
        let rank = Int(env["RANK"] ?? "") ?? -1
        let failRank = arguments.count > 1 ? Int(arguments[1]) ?? -1 : -1
        let how = arguments.count > 2 ? arguments[2] : "exit"
        if rank == failRank {
            usleep(200_000)
            if how == "kill" { raise(SIGKILL) }
            exit(Int32(how) ?? 3)
        }
        if failRank >= 0 {
            sleep(60)
            emit("STILL ALIVE")
        }

    default:
        fail("unknown scenario \(scenario)", code: 64)
    }
} catch {
    fail("\(error)")
}
