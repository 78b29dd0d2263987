import Torch

/// Where each tensor of a list sits in one flat vector, cut into buckets that collectives move one
/// at a time, each padded to a multiple of the world size so that it splits into equal chunks.
///
/// Tensors are laid end to end in list order (unpadded offsets `offsets[i]`). Buckets are runs of
/// whole tensors holding at most `bucketCapacity` elements (a larger tensor gets a bucket of its own),
/// so they depend only on the sizes and the capacity, never on the world size: a layout at any world
/// size addresses the same unpadded elements, which is what re-sharding relies on. Rank r owns chunk r
/// of every bucket; with one bucket that is the contiguous r-th shard of the flattened tensors.
public struct FlatLayout: Sendable, Equatable {
    /// A run of whole tensors moved by one collective.
    public struct Bucket: Sendable, Equatable {
        /// Indices of the tensors it holds.
        public let members: Range<Int>
        /// Unpadded offset of its first element in the flat vector.
        public let start: Int
        /// Real elements (unpadded).
        public let count: Int
        /// `count` rounded up to a multiple of the world size.
        public let paddedCount: Int
        /// Elements each rank owns: `paddedCount / worldSize`.
        public let chunk: Int
    }

    public let counts: [Int]
    public let offsets: [Int]
    public let total: Int
    public let worldSize: Int
    public let buckets: [Bucket]

    /// Default bucket size: 2²⁵ elements (128 MiB of float32), in the range of DDP's 25 MB and
    /// DeepSpeed's 5·10⁸-element defaults; it bounds the extra memory a collective needs.
    public static let defaultBucketCapacity = 1 << 25

    public init(counts: [Int], worldSize: Int, bucketCapacity: Int = defaultBucketCapacity) {
        precondition(worldSize >= 1 && bucketCapacity >= 1 && counts.allSatisfy { $0 >= 0 },
                     "FlatLayout: world size \(worldSize), capacity \(bucketCapacity)")
        self.counts = counts
        self.worldSize = worldSize
        var offsets: [Int] = []
        var running = 0
        for c in counts {
            offsets.append(running)
            running += c
        }
        self.offsets = offsets
        total = running
        var buckets: [Bucket] = []
        var first = 0
        var size = 0
        func close(_ end: Int) {
            guard end > first else { return }
            let padded = (size + worldSize - 1) / worldSize * worldSize
            buckets.append(Bucket(members: first..<end, start: offsets[first], count: size, paddedCount: padded,
                                  chunk: padded / worldSize))
            first = end
            size = 0
        }
        for (i, c) in counts.enumerated() {
            if size > 0 && size + c > bucketCapacity { close(i) }
            size += c
        }
        close(counts.count)
        self.buckets = buckets
    }

    /// Unpadded elements of the flat vector that `rank` owns in `bucket` (empty when its chunk is all padding).
    public func ownedRange(bucket b: Int, rank: Int) -> Range<Int> {
        let bucket = buckets[b]
        let lo = min(bucket.count, rank * bucket.chunk)
        let hi = min(bucket.count, (rank + 1) * bucket.chunk)
        return (bucket.start + lo)..<(bucket.start + hi)
    }

    /// Elements one rank holds over all buckets, padding included.
    public var shardElements: Int { buckets.reduce(0) { $0 + $1.chunk } }

    /// The tensors of `bucket` end to end as one `[paddedCount]` tensor of `dtype` on `device`, zero
    /// padded; `nil` entries (a parameter without a gradient) count as zeros.
    public func flatten(bucket b: Int, _ tensors: [Tensor?], dtype: DType, device: Device) -> Tensor {
        let bucket = buckets[b]
        var parts: [Tensor] = []
        for i in bucket.members where counts[i] > 0 {
            if let t = tensors[i] {
                parts.append(t.reshape([-1]).to(dtype, device: device))
            } else {
                parts.append(Tensor.zeros([counts[i]], dtype: dtype, device: device))
            }
        }
        if bucket.paddedCount > bucket.count { parts.append(Tensor.zeros([bucket.paddedCount - bucket.count], dtype: dtype, device: device)) }
        if parts.count == 1 { return parts[0].contiguous() }
        return parts.isEmpty ? Tensor.zeros([0], dtype: dtype, device: device) : Tensor.cat(parts)
    }

    /// The piece of a flat `[paddedCount]` bucket tensor that belongs to member `i`, shaped `shape`.
    public func piece(of flat: Tensor, bucket b: Int, member i: Int, shape: [Int]) -> Tensor {
        flat.narrow(0, start: offsets[i] - buckets[b].start, length: counts[i]).view(shape)
    }
}
