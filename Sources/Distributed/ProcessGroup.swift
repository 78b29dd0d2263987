import CTorch
import Torch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The communication backend: NCCL for CUDA tensors, Gloo for CPU tensors (as torch chooses).
public enum CommunicationBackend: String, Sendable {
    case gloo, nccl

    /// The backend torch uses for tensors on `device`.
    public static func `for`(_ device: Device) -> CommunicationBackend { device.isCUDA ? .nccl : .gloo }
}

/// How a collective combines the ranks' values.
public enum ReduceOp: Sendable {
    case sum, average, max, min, product

    var code: Int32 {
        switch self {
        case .sum: Int32(CT_REDUCE_SUM)
        case .average: Int32(CT_REDUCE_AVG)
        case .max: Int32(CT_REDUCE_MAX)
        case .min: Int32(CT_REDUCE_MIN)
        case .product: Int32(CT_REDUCE_PRODUCT)
        }
    }
}

/// A collective in flight. `wait()` blocks until it completes on this rank and throws, naming the
/// collective, the rank and the cause, when it failed (a peer died, the timeout passed). The tensors
/// it reads and writes stay alive until then.
public final class Work: @unchecked Sendable {
    let handle: OpaquePointer
    let tensors: [Tensor]
    private var waited = false

    init(handle: OpaquePointer, tensors: [Tensor]) {
        self.handle = handle
        self.tensors = tensors
    }
    deinit { ct_work_free(handle) }

    public func wait() throws {
        guard !waited else { return }
        waited = true
        if ct_work_wait(handle) != 0 { throw DistributedError.collective(message: String(cString: ct_last_error())) }
    }
}

/// A group of processes (ranks) that run collectives together: torch's c10d process group, on Gloo
/// or NCCL, rendezvoused through a TCPStore. Every rank must call the same collectives in the same
/// order with tensors of the same shapes. Collectives on a world of one are real (the code path is
/// the same at every size).
public final class ProcessGroup: @unchecked Sendable {
    public let rank: Int
    public let worldSize: Int
    public let localRank: Int
    public let localWorldSize: Int
    public let backend: CommunicationBackend
    /// Where this rank's collective tensors live (CUDA under NCCL).
    public let device: Device
    /// Bound on the rendezvous and on every collective.
    public let timeout: Duration
    let store: OpaquePointer
    let handle: OpaquePointer

    /// Default timeout of collectives and rendezvous: torch's default for Gloo and NCCL process groups.
    public static let defaultTimeout: Duration = .seconds(30 * 60)

    /// Joins the group described by `environment`: rank 0 (or torchrun's agent, with
    /// `TORCHELASTIC_USE_AGENT_STORE`) serves the TCPStore at MASTER_ADDR:MASTER_PORT, the others
    /// connect; then the backend for `device` rendezvouses through it. Gloo uses its default device
    /// (this host name's address, else loopback) unless `GLOO_SOCKET_IFNAME` names an interface.
    /// NCCL needs the bridge library (see `ncclBridgePath`).
    ///
    /// - Throws: `DistributedError.portInUse` when rank 0 cannot bind the port, `.rendezvous` when the
    ///   store cannot be reached or not every rank arrives within `timeout`, `.processGroup` otherwise.
    public static func join(_ environment: LaunchEnvironment, device: Device, timeout: Duration = defaultTimeout,
                            glooThreads: Int? = nil) throws -> ProcessGroup {
        let backend = CommunicationBackend.for(device)
        let ms = Int64(timeout.components.seconds) * 1000 + Int64(timeout.components.attoseconds / 1_000_000_000_000_000)
        let server = !environment.useAgentStore && environment.rank == 0
        guard let tcp = ct_tcp_store_new(environment.masterAddress, Int32(environment.masterPort), Int32(environment.worldSize),
                                         server ? 1 : 0, ms) else {
            let reason = String(cString: ct_last_error())
            if server && (reason.contains("EADDRINUSE") || reason.lowercased().contains("address already in use")) {
                throw DistributedError.portInUse(host: environment.masterAddress, port: environment.masterPort, reason: reason)
            }
            throw DistributedError.rendezvous(host: environment.masterAddress, port: environment.masterPort, reason: reason)
        }
        defer { ct_store_free(tcp) }
        // torch's init_process_group keeps keys under the agent's attempt prefix; ours go under "svco".
        let prefix = environment.useAgentStore ? "/worker/attempt_\(environment.restartCount)/svco" : "svco"
        guard let store = ct_prefix_store_new(prefix, tcp) else {
            throw DistributedError.rendezvous(host: environment.masterAddress, port: environment.masterPort,
                                              reason: String(cString: ct_last_error()))
        }
        let group: OpaquePointer?
        switch backend {
        case .gloo:
            let interface = LaunchEnvironment.processEnvironment()["GLOO_SOCKET_IFNAME"]
            group = ct_pg_gloo_new(store, Int32(environment.rank), Int32(environment.worldSize), ms, interface,
                                   Int32(glooThreads ?? 0))
        case .nccl:
            guard case .cuda(let index) = device else { preconditionFailure("NCCL needs a CUDA device") }
            group = ct_pg_nccl_new(ncclBridgePath(), store, Int32(environment.rank), Int32(environment.worldSize), ms, Int32(index))
        }
        guard let group else {
            let reason = String(cString: ct_last_error())
            ct_store_free(store)
            throw DistributedError.processGroup(backend: backend.rawValue, reason: "rank \(environment.rank) of \(environment.worldSize): \(reason)")
        }
        return ProcessGroup(rank: environment.rank, worldSize: environment.worldSize, localRank: environment.localRank,
                            localWorldSize: environment.localWorldSize, backend: backend, device: device, timeout: timeout,
                            store: store, handle: group)
    }

    init(rank: Int, worldSize: Int, localRank: Int, localWorldSize: Int, backend: CommunicationBackend, device: Device,
         timeout: Duration, store: OpaquePointer, handle: OpaquePointer) {
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank
        self.localWorldSize = localWorldSize
        self.backend = backend
        self.device = device
        self.timeout = timeout
        self.store = store
        self.handle = handle
    }

    deinit {
        ct_pg_free(handle)
        ct_store_free(store)
    }

    /// Rank 0 writes files (metrics, checkpoints, progress) for the whole group.
    public var isMain: Bool { rank == 0 }

    /// The NCCL bridge library (`make nccl-bridge`): `$SVCO_NCCL_BRIDGE`, else `libsvco_nccl_bridge.so`
    /// beside the executable or in its `lib/` folder, else the bare name for the loader's search path.
    public static func ncclBridgePath() -> String {
        let name = "libsvco_nccl_bridge.so"
        if let path = LaunchEnvironment.processEnvironment()["SVCO_NCCL_BRIDGE"], !path.isEmpty { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 {
            let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let dir = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            for candidate in [dir + "/" + name, dir + "/lib/" + name] where access(candidate, R_OK) == 0 { return candidate }
        }
        return name
    }

    // MARK: collectives

    func started(_ work: OpaquePointer?, _ tensors: [Tensor]) throws -> Work {
        guard let work else { throw DistributedError.collective(message: String(cString: ct_last_error())) }
        return Work(handle: work, tensors: tensors)
    }

    /// Starts an in-place all-reduce of `tensor` over every rank.
    public func allReduceAsync(_ tensor: Tensor, _ op: ReduceOp = .sum) throws -> Work {
        try started(ct_pg_all_reduce(handle, tensor.handle, op.code), [tensor])
    }

    /// Replaces `tensor` on every rank with the reduction of all ranks' tensors.
    public func allReduce(_ tensor: Tensor, _ op: ReduceOp = .sum) throws { try allReduceAsync(tensor, op).wait() }

    /// Starts copying `tensor` of rank `root` into every other rank's `tensor`.
    public func broadcastAsync(_ tensor: Tensor, from root: Int = 0) throws -> Work {
        try started(ct_pg_broadcast(handle, tensor.handle, Int32(root)), [tensor])
    }

    public func broadcast(_ tensor: Tensor, from root: Int = 0) throws { try broadcastAsync(tensor, from: root).wait() }

    /// Starts gathering every rank's `input` into `output` (contiguous, `worldSize × input.count`
    /// elements, rank order).
    public func allGatherAsync(into output: Tensor, _ input: Tensor) throws -> Work {
        try started(ct_pg_all_gather(handle, output.handle, input.handle), [output, input])
    }

    public func allGather(into output: Tensor, _ input: Tensor) throws { try allGatherAsync(into: output, input).wait() }

    /// Starts reducing `input` (contiguous, `worldSize × output.count` elements) over all ranks,
    /// leaving chunk `rank` of the result in `output`.
    public func reduceScatterAsync(into output: Tensor, _ input: Tensor, _ op: ReduceOp = .sum) throws -> Work {
        try started(ct_pg_reduce_scatter(handle, output.handle, input.handle, op.code), [output, input])
    }

    public func reduceScatter(into output: Tensor, _ input: Tensor, _ op: ReduceOp = .sum) throws {
        try reduceScatterAsync(into: output, input, op).wait()
    }

    /// Returns once every rank has called `barrier()` (e.g. before reading a folder rank 0 wrote).
    public func barrier() throws { try started(ct_pg_barrier(handle), []).wait() }

    // MARK: host values

    /// Reduces a few host numbers across ranks (float64 on the group's device).
    public func allReduce(_ values: [Double], _ op: ReduceOp) throws -> [Double] {
        guard !values.isEmpty else { return [] }
        let t = Tensor(values).to(device: device)
        try allReduce(t, op)
        return t.toArray(Double.self)
    }

    /// Whether any rank passes `true` — e.g. fp16's found-inf flag, so that all ranks skip the same steps.
    public func any(_ flag: Bool) throws -> Bool { try allReduce([flag ? 1 : 0], .max)[0] != 0 }

    /// In place: `flag` (any floating dtype, any shape) becomes its maximum over ranks — GradScaler's
    /// found-inf tensor, agreed by all ranks before the step is taken or skipped.
    public func agreeOnFoundInf(_ flag: Tensor) throws { try allReduce(flag, .max) }

    /// The mean over ranks of each metric. Every rank must pass the same names (checked: a rank with
    /// a different set throws `.mismatch` on every rank rather than averaging unrelated numbers).
    public func average(_ metrics: [String: Double]) throws -> [String: Double] {
        let names = metrics.keys.sorted()
        // A 52-bit FNV-1a of the names, exact in float64: min == max iff every rank has the same set.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in names.joined(separator: "\u{0}").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let check = Double(hash & ((1 << 52) - 1))
        let bounds = try allReduce([check, -check], .max)
        guard bounds[0] == -bounds[1] else {
            throw DistributedError.mismatch(what: "metric names", reason: "rank \(rank) has \(names.joined(separator: ", "))")
        }
        let means = try allReduce(names.map { metrics[$0] ?? 0 }, .average)
        return Dictionary(uniqueKeysWithValues: zip(names, means))
    }
}
