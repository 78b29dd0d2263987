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

extension Tensor {
    /// Runs `body` each time a backward pass has accumulated a gradient into this leaf's `.grad`
    /// (torch's `register_post_accumulate_grad_hook`): once per backward pass that reaches the leaf,
    /// however many uses it has in the graph — and once per recomputation under reentrant
    /// checkpointing, whose inner backward pass accumulates on its own. `body` may read and drop
    /// `.grad`. It runs on the thread the autograd engine uses for the leaf's device (the caller's for
    /// the CPU). Replaces an earlier hook of this tensor. Returns false, setting nothing, unless the
    /// tensor is a leaf that requires grad.
    @discardableResult
    public func onGradientAccumulated(_ body: @escaping () -> Void) -> Bool {
        let box = Unmanaged.passRetained(GradientHook(body)).toOpaque()
        return ct_set_post_accumulate_grad_hook(handle, gradientHookTrampoline, box, gradientHookRelease) == 0
    }

    /// Removes the hook `onGradientAccumulated` set.
    public func removeGradientAccumulatedHook() {
        TorchOp.status(ct_set_post_accumulate_grad_hook(handle, nil, nil, nil), "register_post_accumulate_grad_hook", [self])
    }
}

/// The Swift closure behind a post-accumulate-grad hook, owned by the C++ hook object.
private final class GradientHook {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

private func gradientHookTrampoline(_ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<GradientHook>.fromOpaque(context).takeUnretainedValue().body()
}

private func gradientHookRelease(_ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<GradientHook>.fromOpaque(context).release()
}
