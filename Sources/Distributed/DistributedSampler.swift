import Torch

/// Which records each rank reads in an epoch, exactly as `torch.utils.data.DistributedSampler`:
///
/// - the epoch's order is `0..<count`, or with `shuffle` the permutation
///   `torch.randperm(count, generator=torch.Generator().manual_seed(seed + epoch))` — the same on
///   every rank (libtorch's own randperm, so the same numbers as torch);
/// - without `dropLast` the order is padded to a multiple of the world size by repeating its head
///   (as often as needed); with `dropLast` its tail is cut instead;
/// - rank r takes positions r, r + W, r + 2W, … of that order (`indices[rank::num_replicas]`).
///
/// Per-device micro-batch k of every rank then covers global positions `[k·b·W, (k+1)·b·W)` of the
/// order, so W ranks with batch b read exactly the records one process with batch W·b reads: only
/// the world size changes between the two runs.
///
/// svco's trainer shuffles with its own seeded Fisher–Yates (SplitMix64 of seed and epoch), a
/// different permutation from torch's randperm. `slice(of:)` applies torch's padding and striding to
/// any global order, so the trainer can keep its order (same records at every world size, not torch's
/// sequence) or take `torchOrder(epoch:)` to read records in torch's sequence.
public struct DistributedSampler: Sendable, Equatable {
    public let count: Int
    public let worldSize: Int
    public let rank: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool

    public init(count: Int, worldSize: Int, rank: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false) {
        precondition(count >= 0 && worldSize >= 1 && (0..<worldSize).contains(rank),
                     "DistributedSampler: count \(count), world size \(worldSize), rank \(rank)")
        self.count = count
        self.worldSize = worldSize
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
    }

    /// Records per rank per epoch (torch's `num_samples`).
    public var samplesPerRank: Int {
        if dropLast && count % worldSize != 0 { return (count - worldSize + worldSize - 1) / worldSize }  // ceil((n - W) / W)
        return (count + worldSize - 1) / worldSize
    }

    /// Records all ranks read together per epoch (torch's `total_size`).
    public var totalSize: Int { samplesPerRank * worldSize }

    /// The epoch's global order before padding: the identity, or torch's seeded randperm.
    public func torchOrder(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        guard count > 0 else { return [] }
        let generator = Generator(seed: seed &+ UInt64(bitPattern: Int64(epoch)))
        return Tensor.randperm(count, generator: generator).toArray(Int64.self).map { Int($0) }
    }

    /// This rank's records of the epoch (torch's `list(iter(sampler))` after `set_epoch(epoch)`).
    public func indices(epoch: Int) -> [Int] { slice(of: torchOrder(epoch: epoch)) }

    /// This rank's share of a global `order` of `count` records: torch's padding (or cut) and striding.
    public func slice(of order: [Int]) -> [Int] {
        precondition(order.count == count, "DistributedSampler.slice: order has \(order.count) records, not \(count)")
        var padded = order
        if dropLast {
            padded = Array(order.prefix(totalSize))
        } else if !order.isEmpty {
            // Repeat the head, the whole order as often as needed: torch's `indices * ceil(padding / n)`.
            while padded.count < totalSize { padded += order.prefix(min(order.count, totalSize - padded.count)) }
        }
        return Array(stride(from: rank, to: padded.count, by: worldSize).map { padded[$0] })
    }
}
