/// Host memory for many tensors, carved out of a few large slabs (for AdamW's offloaded moments).
/// torch's page-locked (pinned) host allocator rounds every allocation up to a power of two: one
/// pinned tensor per moment would spend 256 MB on a 180 MB MLP weight's moment and 1 GiB on a 525 MB
/// embedding's — a third more host memory for a 7B model. Slabs whose byte size is a power of two
/// lose nothing to that rounding, and each tensor is a view into one (a view of pinned memory is
/// pinned). Tensors are placed first-fit and never freed before the arena.
public final class HostMemoryArena {
    public let dtype: DType
    /// Page-locked slabs (only where CUDA is present; see `Tensor.pinned()`).
    public let pinned: Bool
    /// Values of an ordinary slab (a power of two); a larger tensor gets a slab of the next power of
    /// two above its count.
    public let slabValues: Int
    private(set) var slabs: [(tensor: Tensor, used: Int)] = []

    public init(dtype: DType = .float32, pinned: Bool, slabValues: Int = 1 << 28) {
        precondition(slabValues > 0 && slabValues & (slabValues - 1) == 0, "HostMemoryArena: slabValues must be a power of two")
        self.dtype = dtype
        self.pinned = pinned
        self.slabValues = slabValues
    }

    /// Zeros of `shape` in the arena's dtype, on the CPU.
    public func zeros(_ shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        guard count > 0 else { return Tensor.zeros(shape, dtype: dtype) }
        let i = slabs.firstIndex { $0.tensor.count - $0.used >= count } ?? addSlab(holding: count)
        let view = slabs[i].tensor.narrow(0, start: slabs[i].used, length: count).view(shape)
        slabs[i].used += count
        return view
    }

    /// Values held in slabs (used or not), and of those in use.
    public var reservedValues: Int { slabs.reduce(0) { $0 + $1.tensor.count } }
    public var usedValues: Int { slabs.reduce(0) { $0 + $1.used } }

    private func addSlab(holding count: Int) -> Int {
        var values = slabValues
        while values < count { values *= 2 }
        let slab = Tensor.zeros([values], dtype: dtype)
        slabs.append((pinned ? slab.pinned() : slab, 0))
        return slabs.count - 1
    }
}
