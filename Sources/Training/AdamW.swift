import NN
import Torch

/// AdamW as HF Trainer sets it up: two parameter groups — weight decay for matrices, none for
/// biases and normalisation weights — over the trainable parameters only (frozen ones get no
/// optimiser state), updated with ATen's fused kernel.
public final class AdamW {
    public struct Settings: Sendable, Equatable {
        public var beta1 = 0.9
        public var beta2 = 0.999
        public var eps = 1e-8
        public var weightDecay = 0.0
        /// The moments in CPU memory, streamed through the device at each step
        /// (`OptimizerKernels.fusedAdamWStreamingMoments`: the same update bit for bit).
        public var offloadMoments = false
        public init(beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0,
                    offloadMoments: Bool = false) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.eps = eps
            self.weightDecay = weightDecay
            self.offloadMoments = offloadMoments
        }
    }

    /// One parameter with its optimiser state.
    final class Slot {
        let name: String
        let parameter: Parameter
        let decays: Bool
        let expAvg: Tensor
        let expAvgSq: Tensor
        let step: Tensor

        init(name: String, parameter: Parameter, decays: Bool, offloadTo arena: HostMemoryArena?) {
            self.name = name
            self.parameter = parameter
            self.decays = decays
            let v = parameter.value
            expAvg = OptimizerKernels.momentBuffer(v.shape, dtype: v.dtype, device: v.device, offloadTo: arena)
            expAvgSq = OptimizerKernels.momentBuffer(v.shape, dtype: v.dtype, device: v.device, offloadTo: arena)
            step = Tensor.zeros([], dtype: .float32, device: v.device)
        }
    }

    public let settings: Settings
    let slots: [Slot]

    /// Names excluded from weight decay: biases and the weights of LayerNorm/RMSNorm layers.
    public static func decays(_ name: String) -> Bool {
        !(name.hasSuffix(".bias") || name.split(separator: ".").contains { $0.contains("norm") })
    }

    public init(parameters: [(name: String, parameter: Parameter)], settings: Settings) {
        self.settings = settings
        var seen = Set<ObjectIdentifier>()
        let trainable = parameters.filter { $0.parameter.trainable && seen.insert(ObjectIdentifier($0.parameter)).inserted }
        let arena = settings.offloadMoments ? trainable.first.map {
            OptimizerKernels.momentArena(for: $0.parameter.value.device, values: 2 * trainable.reduce(0) { $0 + $1.parameter.value.count })
        } : nil
        slots = trainable.map { name, p in Slot(name: name, parameter: p, decays: Self.decays(name), offloadTo: arena) }
    }

    /// Names of the parameters this optimiser updates.
    public var parameterNames: [String] { slots.map(\.name) }

    /// Gradients of the trainable parameters (zeros standing in for parameters that got none).
    public func gradients() -> [Tensor] {
        slots.map { $0.parameter.value.grad ?? Tensor.zeros($0.parameter.value.shape, dtype: $0.parameter.value.dtype,
                                                              device: $0.parameter.value.device) }
    }

    /// The gradients the trainable parameters hold (parameters without one are left out).
    public func presentGradients() -> [Tensor] { slots.compactMap { $0.parameter.value.grad } }

    /// Clips gradients to a global 2-norm (torch semantics) and returns the norm before clipping.
    public func clipGradients(maxNorm: Double) -> Double {
        OptimizerKernels.clipGradNorm(presentGradients(), maxNorm: maxNorm)
    }

    /// One update at learning rate `lr`. Parameters without a gradient are skipped, as torch does.
    public func step(lr: Double) {
        for decays in [true, false] {
            let group = slots.filter { $0.decays == decays && $0.parameter.value.grad != nil }
            guard !group.isEmpty else { continue }
            OptimizerKernels.fusedAdamW(
                params: group.map { $0.parameter.value }, grads: group.compactMap { $0.parameter.value.grad },
                expAvgs: group.map(\.expAvg), expAvgSqs: group.map(\.expAvgSq), steps: group.map(\.step), lr: lr,
                beta1: settings.beta1, beta2: settings.beta2, weightDecay: decays ? settings.weightDecay : 0, eps: settings.eps,
                streamingMoments: settings.offloadMoments)
        }
    }

    /// Drops every gradient (zero_grad(set_to_none=True)).
    public func zeroGradients() {
        for slot in slots { slot.parameter.value.zeroGrad() }
    }

    /// Optimiser state by name (`<param>.exp_avg`, `.exp_avg_sq`, `.step`), for checkpoints.
    public func stateDict() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for s in slots {
            out[s.name + ".exp_avg"] = s.expAvg
            out[s.name + ".exp_avg_sq"] = s.expAvgSq
            out[s.name + ".step"] = s.step
        }
        return out
    }

    /// Restores `stateDict()` output; throws naming the first missing or mis-shaped entry.
    public func load(state: [String: Tensor], source: String) throws {
        for s in slots {
            for (suffix, target) in [("exp_avg", s.expAvg), ("exp_avg_sq", s.expAvgSq), ("step", s.step)] {
                let key = s.name + "." + suffix
                guard let t = state[key] else { throw WeightLoadingError.missing(key: key, source: source) }
                guard t.shape == target.shape else {
                    throw WeightLoadingError.shapeMismatch(key: key, source: source, expected: target.shape, found: t.shape)
                }
                target.copy_(t)
            }
        }
    }
}
