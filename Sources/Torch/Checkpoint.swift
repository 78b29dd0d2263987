import CTorch

/// Activation checkpointing, as `torch.utils.checkpoint.checkpoint(fn, *inputs, use_reentrant=True)`
/// (the transformers default behind `gradient_checkpointing_enable()`): the segment runs now without
/// keeping its intermediate activations, and runs again during the backward pass, with gradient
/// recording on and the autocast setting of the first run, to back-propagate through it. Parameter
/// gradients accumulate into `.grad` during that inner backward pass; the segment's inputs get
/// their gradients through the returned outputs as usual.
///
/// The segment must compute the same thing both times: it must not draw random numbers (PyTorch
/// restores the RNG for dropout; svco's models have none, so the RNG is left alone), read state that
/// changes between forward and backward, or modify its inputs in place.
public enum Checkpoint {
    /// Outputs of `segment(inputs)`. Tensors the segment needs gradients to flow into (the hidden
    /// states) must be passed in `inputs`; anything else it reads (masks, rotary tables, parameters)
    /// may be captured. When gradient recording is off, or no input requires a gradient, the segment
    /// just runs: there is no graph to save memory on, and (unlike PyTorch's reentrant variant, which
    /// then silently drops the parameters' gradients) captured parameters still get theirs.
    ///
    /// `afterBackward` runs once the backward pass through the recomputed segment has finished, i.e.
    /// when the `.grad` of the parameters it used are complete for this pass (ZeRO-3 reduces them and
    /// frees the segment's gathered parameters there). It does not run when the segment just ran.
    public static func run(_ inputs: [Tensor], afterBackward: (() -> Void)? = nil,
                           _ segment: @escaping ([Tensor]) -> [Tensor]) -> [Tensor] {
        guard Autograd.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return segment(inputs) }
        let box = Unmanaged.passRetained(Segment(segment, afterBackward: afterBackward)).toOpaque()
        var out = [OpaquePointer?](repeating: nil, count: Int(CT_CHECKPOINT_MAX_OUTPUTS))
        let count = withHandles(inputs) { handles, n in
            ct_checkpoint(checkpointTrampoline, box, checkpointRelease, afterBackward == nil ? nil : checkpointAfterBackward,
                          handles, n, &out, CT_CHECKPOINT_MAX_OUTPUTS)
        }
        if count < 0 { TorchOp.fail("checkpoint", inputs) }
        return out.prefix(Int(count)).map { TorchOp.result($0, "checkpoint", inputs) }
    }

    /// The Swift closure the C++ autograd node calls back into (twice: forward, then recomputation).
    final class Segment {
        let body: ([Tensor]) -> [Tensor]
        let afterBackward: (() -> Void)?
        init(_ body: @escaping ([Tensor]) -> [Tensor], afterBackward: (() -> Void)?) {
            self.body = body
            self.afterBackward = afterBackward
        }
    }
}

/// Called by the shim with borrowed inputs; hands back new references to the outputs.
private func checkpointTrampoline(_ context: UnsafeMutableRawPointer?, _ inputs: UnsafePointer<OpaquePointer?>?, _ count: Int32,
                                  _ out: UnsafeMutablePointer<OpaquePointer?>?, _ capacity: Int32) -> Int32 {
    guard let context, let out else { return -1 }
    let segment = Unmanaged<Checkpoint.Segment>.fromOpaque(context).takeUnretainedValue()
    var tensors: [Tensor] = []
    tensors.reserveCapacity(Int(count))
    for i in 0..<Int(count) {
        guard let h = inputs?[i], let copy = ct_shallow_clone(h) else { return -1 }
        tensors.append(Tensor(handle: copy))
    }
    let outputs = segment.body(tensors)
    guard outputs.count <= Int(capacity) else { return -1 }
    for (i, t) in outputs.enumerated() { out[i] = ct_shallow_clone(t.handle) }
    return Int32(outputs.count)
}

private func checkpointAfterBackward(_ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<Checkpoint.Segment>.fromOpaque(context).takeUnretainedValue().afterBackward?()
}

private func checkpointRelease(_ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<Checkpoint.Segment>.fromOpaque(context).release()
}
