import CTorch

extension Tensor {
    /// Whether autograd records operations on this tensor.
    public var requiresGrad: Bool { ct_requires_grad(handle) != 0 }

    /// Marks a leaf tensor as a parameter (or not). Returns self for chaining.
    @discardableResult
    public func requiresGrad(_ flag: Bool) -> Tensor {
        TorchOp.status(ct_set_requires_grad(handle, flag ? 1 : 0), "requires_grad_", [self])
        return self
    }

    /// Back-propagates from this tensor (a scalar unless `gradient` is given), accumulating into
    /// the `.grad` of leaves.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) {
        TorchOp.status(ct_backward(handle, gradient?.handle, retainGraph ? 1 : 0, createGraph ? 1 : 0), "backward", [self])
    }

    /// The accumulated gradient, or nil when none is stored.
    public var grad: Tensor? {
        get { ct_grad(handle).map { Tensor(handle: $0) } }
        set { TorchOp.status(ct_set_grad(handle, newValue?.handle), "set_grad", [self]) }
    }

    /// Drops the stored gradient (torch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() { TorchOp.status(ct_zero_grad(handle), "zero_grad", [self]) }

    /// The same values cut from the graph (shares storage).
    public func detach() -> Tensor { TorchOp.result(ct_detach(handle), "detach", [self]) }
}

/// Process-wide (per-thread, as in torch) autograd switches.
public enum Autograd {
    public static var isEnabled: Bool { ct_is_grad_enabled() != 0 }

    /// Runs `body` with gradient recording off (torch.no_grad()), restoring the previous mode after.
    public static func noGrad<R>(_ body: () throws -> R) rethrows -> R {
        let previous = ct_set_grad_enabled(0)
        defer { _ = ct_set_grad_enabled(previous) }
        return try body()
    }

    /// Runs `body` with gradient recording on (torch.enable_grad()).
    public static func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
        let previous = ct_set_grad_enabled(1)
        defer { _ = ct_set_grad_enabled(previous) }
        return try body()
    }

    /// d(outputs)/d(inputs) without touching `.grad` (torch.autograd.grad); nil for an input the
    /// outputs do not depend on.
    public static func grad(of outputs: [Tensor], wrt inputs: [Tensor], gradOutputs: [Tensor]? = nil,
                            retainGraph: Bool = false, createGraph: Bool = false) -> [Tensor?] {
        var out = [OpaquePointer?](repeating: nil, count: inputs.count)
        let status = withHandles(outputs) { outs, nOut in
            withHandles(inputs) { ins, nIn in
                if let gradOutputs {
                    return withHandles(gradOutputs) { gos, _ in
                        ct_autograd_grad(outs, gos, nOut, ins, nIn, retainGraph ? 1 : 0, createGraph ? 1 : 0, &out)
                    }
                }
                return ct_autograd_grad(outs, nil, nOut, ins, nIn, retainGraph ? 1 : 0, createGraph ? 1 : 0, &out)
            }
        }
        TorchOp.status(status, "autograd.grad", outputs + inputs)
        return out.map { $0.map { Tensor(handle: $0) } }
    }
}
