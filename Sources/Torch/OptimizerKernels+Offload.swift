/// AdamW's moments in host memory (DeepSpeed's `offload_optimizer: {device: cpu}`): they take 8 of the
/// 16 bytes per trained parameter, and a step needs each of them only once. The parameters and their
/// gradients stay on the device; a step copies each moment slice to the device, runs the very fused
/// kernel `fusedAdamW` runs there, and copies it back. The kernel is elementwise, so the update is
/// bitwise the one without offload: only the moments' residence and the bus traffic (16 bytes per
/// trained parameter per step) differ.
extension OptimizerKernels {
    /// Values per streamed slice: 2²⁵ (128 MiB per float32 moment on the device at a time). A multiple
    /// of every vector width, so that slicing never moves where a kernel's vectorised part ends.
    public static let offloadSliceValues = 1 << 25

    /// Where an optimiser's offloaded moments for `device` go: host slabs, page-locked on CUDA, of 2²⁸
    /// values (1 GiB) — or, for fewer `values` in all, of the power of two that holds them (a tiny model
    /// does not take a gigabyte).
    public static func momentArena(for device: Device, values: Int) -> HostMemoryArena {
        var slab = 1
        while slab < min(values, 1 << 28) { slab *= 2 }
        return HostMemoryArena(pinned: device.isCUDA, slabValues: slab)
    }

    /// Zeros for an AdamW moment of a tensor of `shape` on `device`: there, or in `offloadTo` (host
    /// memory; a dtype other than the arena's gets a host tensor of its own).
    public static func momentBuffer(_ shape: [Int], dtype: DType = .float32, device: Device, offloadTo arena: HostMemoryArena?) -> Tensor {
        guard let arena else { return Tensor.zeros(shape, dtype: dtype, device: device) }
        if dtype == arena.dtype { return arena.zeros(shape) }
        let host = Tensor.zeros(shape, dtype: dtype)
        return arena.pinned ? host.pinned() : host
    }

    /// `fusedAdamW`, or with `streamingMoments` `fusedAdamWStreamingMoments`.
    public static func fusedAdamW(params: [Tensor], grads: [Tensor], expAvgs: [Tensor], expAvgSqs: [Tensor], steps: [Tensor],
                                  lr: Double, beta1: Double, beta2: Double, weightDecay: Double, eps: Double, streamingMoments: Bool) {
        if streamingMoments {
            fusedAdamWStreamingMoments(params: params, grads: grads, expAvgs: expAvgs, expAvgSqs: expAvgSqs, steps: steps, lr: lr,
                                       beta1: beta1, beta2: beta2, weightDecay: weightDecay, eps: eps)
        } else {
            fusedAdamW(params: params, grads: grads, expAvgs: expAvgs, expAvgSqs: expAvgSqs, steps: steps, lr: lr,
                       beta1: beta1, beta2: beta2, weightDecay: weightDecay, eps: eps)
        }
    }

    /// `fusedAdamW` with the moments wherever they live (`momentBuffer(offloadTo:)`): each parameter
    /// in slices of `sliceValues`, its moments copied to the parameter's device and back. `steps` stay
    /// on the device; each increases by one, as in `fusedAdamW`.
    public static func fusedAdamWStreamingMoments(params: [Tensor], grads: [Tensor], expAvgs: [Tensor], expAvgSqs: [Tensor],
                                                  steps: [Tensor], lr: Double, beta1: Double, beta2: Double,
                                                  weightDecay: Double, eps: Double, sliceValues: Int = offloadSliceValues) {
        precondition([grads.count, expAvgs.count, expAvgSqs.count, steps.count].allSatisfy { $0 == params.count },
                     "fusedAdamWStreamingMoments: every list needs one entry per parameter")
        precondition(sliceValues > 0)
        // Two device buffers per device and dtype, reused for every slice; the moments are copied into
        // them and back (also when they live on the device already, so that this path runs the same
        // everywhere).
        var staging: [String: (m: Tensor, v: Tensor)] = [:]
        for i in params.indices {
            let p = params[i], device = params[i].device, dtype = expAvgs[i].dtype
            // A parameter that is not one contiguous block cannot be cut into flat views: whole.
            let slice = p.isContiguous ? sliceValues : max(p.count, 1)
            let key = "\(device) \(dtype)"
            let buffers: (m: Tensor, v: Tensor)
            if let reused = staging[key], reused.m.count >= slice {
                buffers = reused
            } else {
                buffers = (Tensor.empty([slice], dtype: dtype, device: device), Tensor.empty([slice], dtype: dtype, device: device))
                staging[key] = buffers
            }
            let m = expAvgs[i].reshape([-1]), v = expAvgSqs[i].reshape([-1])
            let (pFlat, gFlat) = p.isContiguous ? (p.reshape([-1]), grads[i].reshape([-1])) : (p, grads[i])
            var stepAfter = steps[i]
            for start in stride(from: 0, to: max(p.count, 1), by: slice) {
                let length = min(slice, p.count - start)
                let step = steps[i].clone()
                let (pSlice, gSlice) = p.isContiguous
                    ? (pFlat.narrow(0, start: start, length: length), gFlat.narrow(0, start: start, length: length))
                    : (p, grads[i])
                let mHome = m.narrow(0, start: start, length: length), vHome = v.narrow(0, start: start, length: length)
                let mHere = buffers.m.narrow(0, start: 0, length: length), vHere = buffers.v.narrow(0, start: 0, length: length)
                Autograd.noGrad {
                    mHere.copy_(mHome)
                    vHere.copy_(vHome)
                }
                fusedAdamW(params: [pSlice], grads: [gSlice], expAvgs: [mHere.view(pSlice.shape)],
                           expAvgSqs: [vHere.view(pSlice.shape)], steps: [step],
                           lr: lr, beta1: beta1, beta2: beta2, weightDecay: weightDecay, eps: eps)
                Autograd.noGrad {
                    mHome.copy_(mHere)
                    vHome.copy_(vHere)
                }
                stepAfter = step
            }
            Autograd.noGrad { steps[i].copy_(stepAfter) }
        }
    }
}
