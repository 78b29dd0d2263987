import CTorch

/// Reductions of the shim (`CT_SUM` …).
enum ReduceOp: Int32 { case sum, mean, amax, amin, prod, any, all }

extension Tensor {
    @inline(__always)
    func reduce(_ op: ReduceOp, _ name: StaticString, _ dims: [Int], keepDim: Bool) -> Tensor {
        TorchOp.result(withInt64s(dims) { ct_reduce(op.rawValue, handle, $0, $1, keepDim ? 1 : 0) }, name, [self])
    }

    /// Sum over `dims` (all when empty).
    public func sum(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.sum, "sum", dims, keepDim: keepDim) }
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor { sum([dim], keepDim: keepDim) }
    public func mean(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.mean, "mean", dims, keepDim: keepDim) }
    public func mean(dim: Int, keepDim: Bool = false) -> Tensor { mean([dim], keepDim: keepDim) }
    /// Largest element over `dims` (all when empty), without indices.
    public func max(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.amax, "amax", dims, keepDim: keepDim) }
    public func min(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.amin, "amin", dims, keepDim: keepDim) }
    public func prod(dim: Int? = nil, keepDim: Bool = false) -> Tensor {
        reduce(.prod, "prod", dim.map { [$0] } ?? [], keepDim: keepDim)
    }
    public func any(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.any, "any", dims, keepDim: keepDim) }
    public func all(_ dims: [Int] = [], keepDim: Bool = false) -> Tensor { reduce(.all, "all", dims, keepDim: keepDim) }

    /// Values and int64 indices of the maximum along `dim`.
    public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        var idx: OpaquePointer?
        let v = TorchOp.result(ct_max_dim(handle, Int64(dim), keepDim ? 1 : 0, &idx), "max", [self])
        return (v, TorchOp.result(idx, "max", [self]))
    }
    public func min(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        var idx: OpaquePointer?
        let v = TorchOp.result(ct_min_dim(handle, Int64(dim), keepDim ? 1 : 0, &idx), "min", [self])
        return (v, TorchOp.result(idx, "min", [self]))
    }
    public func argmax(dim: Int, keepDim: Bool = false) -> Tensor {
        TorchOp.result(ct_argmax(handle, Int64(dim), keepDim ? 1 : 0), "argmax", [self])
    }
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true) -> (values: Tensor, indices: Tensor) {
        var idx: OpaquePointer?
        let v = TorchOp.result(ct_topk(handle, Int64(k), Int64(dim), largest ? 1 : 0, sorted ? 1 : 0, &idx), "topk", [self])
        return (v, TorchOp.result(idx, "topk", [self]))
    }
    public func sort(dim: Int = -1, descending: Bool = false) -> (values: Tensor, indices: Tensor) {
        var idx: OpaquePointer?
        let v = TorchOp.result(ct_sort(handle, Int64(dim), descending ? 1 : 0, &idx), "sort", [self])
        return (v, TorchOp.result(idx, "sort", [self]))
    }
    public func cumsum(dim: Int) -> Tensor { TorchOp.result(ct_cumsum(handle, Int64(dim)), "cumsum", [self]) }
    public func softmax(dim: Int) -> Tensor { TorchOp.result(ct_softmax(handle, Int64(dim)), "softmax", [self]) }
    public func logSoftmax(dim: Int) -> Tensor { TorchOp.result(ct_log_softmax(handle, Int64(dim)), "log_softmax", [self]) }
    public func logsumexp(dims: [Int], keepDim: Bool = false) -> Tensor {
        TorchOp.result(withInt64s(dims) { ct_logsumexp(handle, $0, $1, keepDim ? 1 : 0) }, "logsumexp", [self])
    }
    /// The p-norm over `dims` (all when empty), as `torch.linalg.vector_norm`.
    public func norm(_ p: Double = 2, dims: [Int] = [], keepDim: Bool = false) -> Tensor {
        TorchOp.result(withInt64s(dims) { ct_norm(handle, p, $0, $1, keepDim ? 1 : 0) }, "norm", [self])
    }
    /// `n` draws without replacement from each row of probabilities.
    public func multinomial(_ n: Int, generator: Generator? = nil) -> Tensor {
        TorchOp.result(ct_multinomial(handle, Int64(n), generator?.handle), "multinomial", [self])
    }
}
