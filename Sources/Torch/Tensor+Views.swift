import CTorch

extension Tensor {
    // MARK: shape views (share storage)

    /// Same elements, new shape; one dimension may be -1. Needs compatible strides (use `reshape` otherwise).
    public func view(_ shape: [Int]) -> Tensor { TorchOp.result(withInt64s(shape) { ct_view(handle, $0, $1) }, "view", [self]) }
    public func view(_ shape: Int...) -> Tensor { view(shape) }
    public func reshape(_ shape: [Int]) -> Tensor {
        TorchOp.result(withInt64s(shape) { ct_reshape(handle, $0, $1) }, "reshape", [self])
    }
    public func reshape(_ shape: Int...) -> Tensor { reshape(shape) }
    public func permute(_ dims: [Int]) -> Tensor {
        TorchOp.result(withInt64s(dims) { ct_permute(handle, $0, $1) }, "permute", [self])
    }
    public func permute(_ dims: Int...) -> Tensor { permute(dims) }
    public func transpose(_ d0: Int, _ d1: Int) -> Tensor {
        TorchOp.result(ct_transpose(handle, Int64(d0), Int64(d1)), "transpose", [self])
    }
    /// The transpose of a matrix (the last two dims).
    public var T: Tensor { transpose(-2, -1) }
    public func narrow(_ dim: Int, start: Int, length: Int) -> Tensor {
        TorchOp.result(ct_narrow(handle, Int64(dim), Int64(start), Int64(length)), "narrow", [self])
    }
    /// Python's `t[..., start:end:step]` along `dim` (end clamps like Python slicing).
    public func slice(_ dim: Int, _ start: Int = 0, _ end: Int = Int(Int64.max), step: Int = 1) -> Tensor {
        TorchOp.result(ct_slice(handle, Int64(dim), Int64(start), Int64(end), Int64(step)), "slice", [self])
    }
    /// Removes `dim` by picking one index.
    public func select(_ dim: Int, _ index: Int) -> Tensor {
        TorchOp.result(ct_select(handle, Int64(dim), Int64(index)), "select", [self])
    }
    /// `t[i]`: the sub-tensor at index `i` of dim 0.
    public subscript(_ index: Int) -> Tensor { select(0, index) }
    public func expand(_ shape: [Int]) -> Tensor {
        TorchOp.result(withInt64s(shape) { ct_expand(handle, $0, $1) }, "expand", [self])
    }
    public func expand(_ shape: Int...) -> Tensor { expand(shape) }
    public func flatten(_ start: Int = 0, _ end: Int = -1) -> Tensor {
        TorchOp.result(ct_flatten(handle, Int64(start), Int64(end)), "flatten", [self])
    }
    public func unsqueeze(_ dim: Int) -> Tensor { TorchOp.result(ct_unsqueeze(handle, Int64(dim)), "unsqueeze", [self]) }
    public func squeeze(_ dim: Int) -> Tensor { TorchOp.result(ct_squeeze(handle, Int64(dim)), "squeeze", [self]) }
    /// Removes every dimension of size 1.
    public func squeeze() -> Tensor { TorchOp.result(ct_squeeze_all(handle), "squeeze", [self]) }

    // MARK: copies

    public func repeated(_ repeats: [Int]) -> Tensor {
        TorchOp.result(withInt64s(repeats) { ct_repeat(handle, $0, $1) }, "repeat", [self])
    }
    public func repeatInterleave(_ repeats: Int, dim: Int) -> Tensor {
        TorchOp.result(ct_repeat_interleave(handle, Int64(repeats), Int64(dim)), "repeat_interleave", [self])
    }
    public func flip(_ dims: [Int]) -> Tensor { TorchOp.result(withInt64s(dims) { ct_flip(handle, $0, $1) }, "flip", [self]) }
    public func tril(_ diagonal: Int = 0) -> Tensor { TorchOp.result(ct_tril(handle, Int64(diagonal)), "tril", [self]) }
    public func triu(_ diagonal: Int = 0) -> Tensor { TorchOp.result(ct_triu(handle, Int64(diagonal)), "triu", [self]) }

    // MARK: indexing

    public func indexSelect(_ dim: Int, _ index: Tensor) -> Tensor {
        TorchOp.result(ct_index_select(handle, Int64(dim), index.handle), "index_select", [self, index])
    }
    public func gather(_ dim: Int, _ index: Tensor) -> Tensor {
        TorchOp.result(ct_gather(handle, Int64(dim), index.handle), "gather", [self, index])
    }
    /// Out-of-place scatter: a copy of self with `src` written at `index` along `dim`.
    public func scatter(_ dim: Int, _ index: Tensor, _ src: Tensor) -> Tensor {
        TorchOp.result(ct_scatter(handle, Int64(dim), index.handle, src.handle), "scatter", [self, index, src])
    }
    /// Out-of-place `t[maskOrIndex] = values` (or `+=` when `accumulate`).
    public func indexPut(_ maskOrIndex: Tensor, _ values: Tensor, accumulate: Bool = false) -> Tensor {
        TorchOp.result(ct_index_put(handle, maskOrIndex.handle, values.handle, accumulate ? 1 : 0), "index_put",
                       [self, maskOrIndex, values])
    }
    public func maskedSelect(_ mask: Tensor) -> Tensor {
        TorchOp.result(ct_masked_select(handle, mask.handle), "masked_select", [self, mask])
    }
    public func maskedFill(_ mask: Tensor, _ value: Scalar) -> Tensor {
        TorchOp.result(ct_masked_fill(handle, mask.handle, value.raw), "masked_fill", [self, mask])
    }
    /// Indices of non-zero elements, `[n, rank]` int64.
    public func nonzero() -> Tensor { TorchOp.result(ct_nonzero(handle), "nonzero", [self]) }

    /// Splits along `dim` into pieces of the given sizes.
    public func split(sizes: [Int], dim: Int = 0) -> [Tensor] {
        var out = [OpaquePointer?](repeating: nil, count: sizes.count)
        let n = withInt64s(sizes) { ct_split_with_sizes(handle, $0, $1, Int64(dim), &out, Int32(out.count)) }
        return collect(out, n, "split_with_sizes")
    }
    /// Splits along `dim` into pieces of `size` (the last may be smaller).
    public func split(size: Int, dim: Int = 0) -> [Tensor] {
        let total = self.size(dim)
        guard size > 0 else { TorchOp.fail("split", [self]) }
        var sizes = Array(repeating: size, count: total / size)
        if total % size != 0 { sizes.append(total % size) }
        return split(sizes: sizes, dim: dim)
    }
    public func chunk(_ chunks: Int, dim: Int = 0) -> [Tensor] {
        var out = [OpaquePointer?](repeating: nil, count: Swift.max(chunks, 0))
        let n = ct_chunk(handle, Int64(chunks), Int64(dim), &out, Int32(out.count))
        return collect(out, n, "chunk")
    }

    private func collect(_ handles: [OpaquePointer?], _ n: Int32, _ op: StaticString) -> [Tensor] {
        if n < 0 { TorchOp.fail(op, [self]) }
        return handles.prefix(Int(n)).compactMap { $0.map { Tensor(handle: $0) } }
    }

    // MARK: joining

    public static func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        TorchOp.result(withHandles(tensors) { ct_cat($0, $1, Int64(dim)) }, "cat", tensors)
    }
    public static func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        TorchOp.result(withHandles(tensors) { ct_stack($0, $1, Int64(dim)) }, "stack", tensors)
    }
    /// Elementwise `condition ? a : b`.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        TorchOp.result(ct_where(condition.handle, a.handle, b.handle), "where", [condition, a, b])
    }
}
