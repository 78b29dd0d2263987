import NN
import Torch

/// ZeRO stage 3 (FSDP-style): the parameters themselves are sharded, one gather unit per block (each
/// decoder layer, each vision encoder layer) of the trained model and of the frozen ones (the
/// reference), and AdamW runs on the shards.
///
/// - A unit's parameters live only as this rank's chunk of their flat, padded vector (one per
///   weight-decay group: `decay`, `no_decay`, or `frozen`, which is one per dtype): float32 for the
///   trained ones (it is also the AdamW master copy); a frozen parameter keeps its own dtype (the
///   reference's linear layers, held in the autocast dtype under `--bf16`/`--fp16`, travel and rest at
///   half the bytes).
/// - As `LayerHooks` of every layered module, it all-gathers a unit right before the block runs and
///   frees it right after when nothing will read it again (no gradient recorded: the frozen
///   reference, a checkpoint's first run). A trained block runs under gradient checkpointing, so its
///   recomputation in the backward pass gathers it again; when the backward pass through it ends its
///   parameters' gradients are reduce-scattered (averaged over ranks) into this rank's gradient chunk,
///   accumulated over micro-batches, and the unit is freed. The next block's gather is started while
///   a block computes (`ParameterShards+Gathering.swift`), so at most two blocks are whole at a time,
///   in forward and backward alike. Under autocast the trained linear layers travel in its dtype.
/// - The trained model's parameters outside blocks (embeddings, projector, final norm, output layer)
///   are *resident*, one unit each: whole on every rank, AdamW on the shard, weights all-gathered after
///   the step. Each has a post-accumulate-grad hook that reduce-scatters its gradient as soon as the
///   backward pass has accumulated it (as ZeRO-2), so the output layer's gradient is gone before the
///   backward pass goes through the blocks, and no rank holds more than one whole resident gradient.
///   Frozen parameters outside blocks (the reference's embeddings and head) stay whole and untouched.
///
/// A collective that fails inside a hook (a peer died) cannot throw through the model's forward pass:
/// the failure is kept in `failure`, later gathers fill zeros instead of communicating, and the
/// trainer throws it (`throwIfFailed()`) right after the pass.
///
/// As in `ShardedAdamW`, a trainable parameter that got no gradient is updated with a zero gradient.
public final class ParameterShards {
    /// One weight-decay group of a unit: its parameters end to end, padded to a multiple of the world size.
    final class Part {
        let names: [String]
        let parameters: [Parameter]
        let shapes: [[Int]]
        let layout: FlatLayout
        let trainable: Bool
        let weightDecay: Double
        /// float32 for trainable parts; the members' own dtype for frozen ones.
        let dtype: DType
        /// The dtype a gather for the forward and backward passes carries: `dtype`, or the autocast
        /// dtype for trained linear layers' weights and biases, which autocast rounds to it anyway.
        let wireDType: DType
        /// This rank's chunk `[chunk]`, on the group's device: the parameters' persistent copy.
        let shard: Tensor
        /// AdamW state of the shard (trainable parts only).
        let expAvg: Tensor?
        let expAvgSq: Tensor?
        let step: Tensor?
        /// The chunk of the rank-averaged gradient, summed over this step's micro-batches.
        var gradient: Tensor?

        init(names: [String], parameters: [Parameter], trainable: Bool, weightDecay: Double, dtype: DType = .float32,
             wireDType: DType? = nil, offloadTo arena: HostMemoryArena? = nil, group: ProcessGroup) {
            self.names = names
            self.parameters = parameters
            shapes = parameters.map { $0.value.shape }
            let layout = FlatLayout(counts: parameters.map { $0.value.count }, worldSize: group.worldSize, bucketCapacity: Int.max)
            self.layout = layout
            self.trainable = trainable
            self.weightDecay = weightDecay
            self.dtype = dtype
            self.wireDType = wireDType ?? dtype
            let chunk = layout.buckets.first?.chunk ?? 0
            shard = Autograd.noGrad {
                layout.buckets.isEmpty ? Tensor.zeros([0], dtype: dtype, device: group.device)
                    : layout.flatten(bucket: 0, parameters.map { $0.value }, dtype: dtype, device: group.device)
                        .narrow(0, start: group.rank * chunk, length: chunk).clone()
            }
            expAvg = trainable ? OptimizerKernels.momentBuffer([chunk], device: group.device, offloadTo: arena) : nil
            expAvgSq = trainable ? OptimizerKernels.momentBuffer([chunk], device: group.device, offloadTo: arena) : nil
            step = trainable ? Tensor.zeros([], device: group.device) : nil
        }

        var chunk: Int { layout.buckets.first?.chunk ?? 0 }
        var paddedCount: Int { layout.buckets.first?.paddedCount ?? 0 }
    }

    /// The parameters gathered and freed together.
    final class Unit {
        let parts: [Part]
        /// Whole on every rank at all times (the trained model's parameters outside blocks).
        let resident: Bool
        var gathered: Bool
        /// Gathered while gradients were recorded: its parameters' gradients are still to be reduced.
        var awaitsGradients = false

        init(parts: [Part], resident: Bool) {
            self.parts = parts
            self.resident = resident
            gathered = resident
        }
        var trainable: Bool { parts.contains { $0.trainable } }
    }

    public let group: ProcessGroup
    let units: [Unit]
    let unitOfBlock: [ObjectIdentifier: Int]
    /// Per unit: the unit of the block before it in its layered module (nil for resident units and
    /// first blocks): where a backward pass's recomputation goes next.
    let neighbours: [Int?]
    /// A block's gather started ahead, while the block before it (in the pass's direction) computes.
    var prefetch: PendingGather?
    /// The last unit's gradient reductions, in flight while the backward pass goes on (with the flat
    /// gradients they read).
    var reductionsInFlight: [(part: Part, flat: Tensor, chunk: Tensor, work: Work?)] = []
    /// Gathers started ahead so far.
    public internal(set) var prefetches = 0
    let beta1: Double, beta2: Double, eps: Double
    /// AdamW's moments in CPU memory, streamed through the device at each step.
    public let offloadMoments: Bool
    /// The trainable parameters in the model's order with their names and shapes, by weight-decay group:
    /// the order of the state files (the same as ShardedAdamW's, so either reads the other's).
    public let canonical: [(group: String, members: [(name: String, count: Int)])]
    let shapes: [String: [Int]]
    /// The first collective failure inside a hook.
    public internal(set) var failure: Error?
    /// The most blocks whole at one time so far (the memory ZeRO-3 trades for communication), a
    /// gather in flight included.
    public internal(set) var peakWholeBlocks = 0
    /// All-gathers of a block so far.
    public internal(set) var blockGathers = 0
    /// Values the blocks' gathers carried so far, by dtype.
    public internal(set) var gatheredValues: [DType: Int] = [:]
    /// Gradient reductions of resident parameters so far: by their hook in a backward pass, or left
    /// for the optimiser step (where a hook was lost).
    public private(set) var residentReductions = (inBackward: 0, atStep: 0)
    /// Trained parameters outside blocks.
    public var residentParameters: Int { units.filter(\.resident).reduce(0) { $0 + $1.parts.reduce(0) { $0 + $1.parameters.count } } }

    /// Shards the blocks of `model` (trained) and of `frozen` (e.g. the reference; a block shared with
    /// `model`, such as a vision tower under `--fix-vit`, is one unit), installs itself as their
    /// `layerHooks`, and moves every remaining parameter to the group's device (the models may be
    /// loaded on the CPU so that no rank ever holds them whole on the device). `decays(name)` picks the
    /// weight-decay group of a trainable parameter.
    public init(model: Module, frozen: [Module], group: ProcessGroup, beta1: Double, beta2: Double, eps: Double,
                weightDecay: Double, decays: (String) -> Bool, offloadMoments: Bool = false, autocastDType: DType? = nil) {
        self.group = group
        self.offloadMoments = offloadMoments
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        var names: [ObjectIdentifier: String] = [:]
        for (name, p) in model.namedParameters() where names[ObjectIdentifier(p)] == nil { names[ObjectIdentifier(p)] = name }
        var seen = Set<ObjectIdentifier>()
        // The trainable parameters in the model's order, each once (tied ones are one).
        var listed = Set<ObjectIdentifier>()
        let trainable = model.namedParameters().filter { $0.parameter.trainable && listed.insert(ObjectIdentifier($0.parameter)).inserted }
        // (Sized for this rank's share of every trainable value; padding that does not fit opens a slab more.)
        let trainableValues = trainable.reduce(0) { $0 + $1.parameter.value.count }
        let arena = offloadMoments
            ? OptimizerKernels.momentArena(for: group.device, values: 2 * (trainableValues / group.worldSize + 1)) : nil
        var units: [Unit] = []
        var unitOfBlock: [ObjectIdentifier: Int] = [:]
        var neighbours: [Int?] = []
        // Under autocast, the trained linear layers' weights and biases are gathered in its dtype: autocast
        // rounds them to it before every use, so the leaves (float32 again) give the same passes.
        let roundedByAutocast = autocastDType == nil ? [] : Set(model.parametersReadOnlyByLinearLayers().map(ObjectIdentifier.init))
        func parts(_ members: [(String, Parameter)]) -> [Part] {
            let trained = members.filter { $0.1.trainable }
            return [("decay", true, weightDecay), ("no_decay", false, 0.0)].flatMap { _, wantDecay, wd -> [Part] in
                let chosen = trained.filter { decays($0.0) == wantDecay }
                return [true, false].compactMap { rounded -> Part? in
                    let these = chosen.filter { roundedByAutocast.contains(ObjectIdentifier($0.1)) == rounded }
                    return these.isEmpty ? nil : Part(names: these.map(\.0), parameters: these.map(\.1), trainable: true, weightDecay: wd,
                                                      wireDType: rounded ? autocastDType : nil, offloadTo: arena, group: group)
                }
            } + frozenParts(members.filter { !$0.1.trainable })
        }
        func frozenParts(_ frozen: [(String, Parameter)]) -> [Part] {
            var dtypes: [DType] = []
            for (_, p) in frozen where !dtypes.contains(p.value.dtype) { dtypes.append(p.value.dtype) }
            return dtypes.map { dtype in
                let chosen = frozen.filter { $0.1.value.dtype == dtype }
                return Part(names: chosen.map(\.0), parameters: chosen.map(\.1), trainable: false, weightDecay: 0, dtype: dtype, group: group)
            }
        }
        for root in [model] + frozen {
            for layered in root.layeredModules {
                let first = units.count
                for block in layered.blocks where unitOfBlock[ObjectIdentifier(block)] == nil {
                    var members: [(String, Parameter)] = []
                    block.forEachParameter { name, p in
                        guard seen.insert(ObjectIdentifier(p)).inserted else { return }
                        members.append((names[ObjectIdentifier(p)] ?? name, p))
                    }
                    unitOfBlock[ObjectIdentifier(block)] = units.count
                    units.append(Unit(parts: parts(members), resident: false))
                }
                for i in first..<units.count { neighbours.append(i > first ? i - 1 : nil) }
            }
        }
        // The trained model's trainable parameters outside blocks: resident.
        for (name, p) in model.namedParameters() where p.trainable && seen.insert(ObjectIdentifier(p)).inserted {
            units.append(Unit(parts: parts([(name, p)]), resident: true))
            neighbours.append(nil)
        }
        self.units = units
        self.unitOfBlock = unitOfBlock
        self.neighbours = neighbours

        var canonical: [(group: String, members: [(name: String, count: Int)])] = []
        var shapes: [String: [Int]] = [:]
        for (groupName, wantDecay) in [("decay", true), ("no_decay", false)] {
            let members = trainable.filter { decays($0.name) == wantDecay }
            if !members.isEmpty { canonical.append((groupName, members.map { ($0.name, $0.parameter.value.count) })) }
        }
        for (name, p) in trainable { shapes[name] = p.value.shape }
        self.canonical = canonical
        self.shapes = shapes

        for unit in units where !unit.resident { release(unit) }
        for m in [model] + frozen {
            m.to(device: group.device)
            for layered in m.layeredModules { layered.layerHooks = self }
        }
        // After the move: a hook belongs to the tensor it is set on.
        for unit in units where unit.resident {
            for p in unit.parts.flatMap(\.parameters) {
                p.value.onGradientAccumulated { [weak self, weak unit] in
                    guard let self, let unit else { return }
                    self.reduceGradients(unit)
                    self.residentReductions.inBackward += 1
                }
            }
        }
    }

    /// Values of this rank's AdamW moments (`exp_avg` and `exp_avg_sq` together).
    public var momentValues: Int { trainableParts.reduce(0) { $0 + 2 * ($1.expAvg?.count ?? 0) } }

    /// Names and shapes of the trainable parameters (whatever their sharded state).
    public var trainableShapes: [String: [Int]] { shapes }

    /// Throws the first collective failure a hook met.
    public func throwIfFailed() throws {
        if let failure { throw failure }
    }

    // MARK: gathering

    /// Values of the blocks' parameters: this rank's chunks (padding included) and all of them whole.
    public var blockValues: (held: Int, whole: Int) {
        let parts = units.filter { !$0.resident }.flatMap(\.parts)
        return (parts.reduce(0) { $0 + $1.chunk }, parts.reduce(0) { $0 + $1.layout.total })
    }

    /// This rank's shards of the blocks by dtype (values, padding included), in order of first appearance.
    public var blockShardValuesByDType: [(dtype: DType, values: Int)] {
        var out: [(dtype: DType, values: Int)] = []
        for part in units.filter({ !$0.resident }).flatMap(\.parts) {
            if let i = out.firstIndex(where: { $0.dtype == part.dtype }) { out[i].values += part.chunk } else { out.append((part.dtype, part.chunk)) }
        }
        return out
    }

    /// Drops the whole values of `unit` (an empty tensor stands in for each parameter).
    func release(_ unit: Unit) {
        guard !unit.resident else { return }
        for part in unit.parts {
            for p in part.parameters {
                p.value = Tensor.empty([0], device: group.device)
            }
        }
        unit.gathered = false
        unit.awaitsGradients = false
    }

    /// Starts the reduce-scatter of `unit`'s trainable parameters' gradients (average over ranks) and
    /// drops their `.grad`; then finishes the reductions started before (adding this rank's chunks
    /// to the step's gradient), so that one unit's reduction runs while the backward pass goes on.
    /// `finishReductions()` completes the last one.
    func reduceGradients(_ unit: Unit) {
        var started: [(part: Part, flat: Tensor, chunk: Tensor, work: Work?)] = []
        for part in unit.parts where part.trainable && !part.layout.buckets.isEmpty {
            let grads = part.parameters.map { $0.value.grad }
            guard grads.contains(where: { $0 != nil }) else { continue }
            let flat = part.layout.flatten(bucket: 0, grads, dtype: .float32, device: group.device)
            for p in part.parameters { p.value.zeroGrad() }
            let chunk = Tensor.empty([part.chunk], device: group.device)
            var work: Work?
            if failure == nil {
                do { work = try group.reduceScatterAsync(into: chunk, flat, .average) } catch { failure = error }
            }
            started.append((part, flat, chunk, work))
        }
        unit.awaitsGradients = false
        finishReductions()
        reductionsInFlight = started
    }

    /// Waits for the reductions in flight and adds their chunks to the step's gradient.
    func finishReductions() {
        for (part, _, chunk, work) in reductionsInFlight {
            if let work, failure == nil {
                do { try work.wait() } catch { failure = error }
            }
            if failure != nil { chunk.zero_() }
            Autograd.noGrad {
                if let gradient = part.gradient { gradient += chunk } else { part.gradient = chunk }
            }
        }
        reductionsInFlight = []
    }

    /// After a micro-batch's backward pass: a block still whole (one that ran with gradients recorded
    /// but not checkpointed) is reduced and freed now.
    public func finishBackward() throws {
        settlePrefetch()
        for unit in units where !unit.resident && unit.gathered {
            if unit.awaitsGradients { reduceGradients(unit) }
            release(unit)
        }
        finishReductions()
        try throwIfFailed()
    }

    // MARK: the optimiser step

    /// Once per optimiser step, after the last micro-batch's backward: resident gradients that no hook
    /// reduced (set by hand, or on a tensor replaced since) reduce-scattered like the blocks'.
    public func reduceResidentGradients() throws {
        settlePrefetch()
        for unit in units where unit.resident && unit.parts.contains(where: { $0.parameters.contains { $0.value.grad != nil } }) {
            reduceGradients(unit)
            residentReductions.atStep += 1
        }
        finishReductions()
        try throwIfFailed()
    }

    var trainableParts: [Part] { units.flatMap { $0.parts.filter(\.trainable) } }

    /// This rank's gradient chunks (zeros where a part got no gradient), for `GradScaler.unscale`.
    public var shardGradients: [Tensor] {
        trainableParts.map { part in
            if let g = part.gradient { return g }
            let zeros = Tensor.zeros([part.chunk], device: group.device)
            part.gradient = zeros
            return zeros
        }
    }

    /// Clips to the global 2-norm of all ranks' chunks (torch's clip_grad_norm_ factor) and returns it.
    public func clipGradients(maxNorm: Double) throws -> Double {
        try ShardedClipping.clip(shardGradients.filter { $0.count > 0 }, maxNorm: maxNorm, group: group)
    }

    /// AdamW on every trainable chunk (ATen's fused kernel, as one process), then the resident
    /// weights all-gathered from their updated chunks.
    public func step(lr: Double) throws {
        settlePrefetch()  // a gather in flight may read the shards the update writes
        _ = shardGradients  // a part without a gradient steps with zeros
        for wd in Set(trainableParts.map(\.weightDecay)).sorted() {
            let parts = trainableParts.filter { $0.weightDecay == wd && $0.chunk > 0 }
            guard !parts.isEmpty else { continue }
            OptimizerKernels.fusedAdamW(
                params: parts.map(\.shard), grads: parts.compactMap(\.gradient), expAvgs: parts.compactMap(\.expAvg),
                expAvgSqs: parts.compactMap(\.expAvgSq), steps: parts.compactMap(\.step), lr: lr, beta1: beta1, beta2: beta2,
                weightDecay: wd, eps: eps, streamingMoments: offloadMoments)
        }
        try gatherResident()
    }

    /// The resident parameters from their chunks (all-gather), written into the existing tensors.
    public func gatherResident() throws {
        for unit in units where unit.resident {
            for part in unit.parts where !part.layout.buckets.isEmpty {
                let full = Tensor.empty([part.paddedCount], device: group.device)
                try group.allGather(into: full, part.shard)
                Autograd.noGrad {
                    for (i, p) in part.parameters.enumerated() {
                        p.value.copy_(part.layout.piece(of: full, bucket: 0, member: i, shape: part.shapes[i]))
                    }
                }
            }
        }
    }

    /// Forgets this step's gradient chunks (and any `.grad` left on the resident parameters).
    public func zeroGradients() {
        finishReductions()
        for part in trainableParts {
            part.gradient = nil
            for p in part.parameters { p.value.zeroGrad() }
        }
    }
}
