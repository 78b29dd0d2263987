import Torch

/// Dynamic loss scaling for float16 training, as `torch.amp.GradScaler` with its defaults (what HF
/// Trainer uses for `--fp16`): the loss is multiplied by `scale` before `backward()`, so that small
/// gradients survive float16; before clipping the gradients are divided by it again
/// (`unscale`), noting whether any is inf or NaN; a step with such a gradient is skipped and the
/// scale halved (`backoff`), and after `growthInterval` good steps in a row it doubles (`growth`).
/// The state lives in tensors on the model's device, so a step needs one host read (`foundInf`).
public final class GradScaler {
    /// The scaler's settings and progress, as saved in checkpoints (`trainer_state.json`).
    public struct State: Codable, Sendable, Equatable {
        public var scale: Double
        public var growthTracker: Int
        public var growthFactor: Double
        public var backoffFactor: Double
        public var growthInterval: Int

        public init(scale: Double = 65536, growthTracker: Int = 0, growthFactor: Double = 2, backoffFactor: Double = 0.5,
                    growthInterval: Int = 2000) {
            self.scale = scale
            self.growthTracker = growthTracker
            self.growthFactor = growthFactor
            self.backoffFactor = backoffFactor
            self.growthInterval = growthInterval
        }

        enum CodingKeys: String, CodingKey {
            case scale
            case growthTracker = "growth_tracker"
            case growthFactor = "growth_factor"
            case backoffFactor = "backoff_factor"
            case growthInterval = "growth_interval"
        }
    }

    public let growthFactor: Double
    public let backoffFactor: Double
    public let growthInterval: Int
    /// float32 `[]`, as torch keeps it.
    let scaleTensor: Tensor
    /// int32 `[]`: good steps since the last growth or backoff.
    let growthTracker: Tensor
    /// float32 `[1]`: 1 once `unscale` saw a non-finite gradient in this step.
    let foundInfTensor: Tensor
    /// Whether `unscale` ran since the last `update` (unscaling twice would divide twice).
    public private(set) var unscaled = false

    /// torch.amp.GradScaler's defaults: init scale 2¹⁶, growth ×2 every 2000 good steps, backoff ×0.5.
    public init(state: State = State(), device: Device = .cpu) {
        growthFactor = state.growthFactor
        backoffFactor = state.backoffFactor
        growthInterval = state.growthInterval
        scaleTensor = Tensor.full([], Scalar(state.scale), dtype: .float32, device: device)
        growthTracker = Tensor.full([], Scalar(state.growthTracker), dtype: .int32, device: device)
        foundInfTensor = Tensor.zeros([1], dtype: .float32, device: device)
    }

    /// The current scale.
    public var scale: Double { scaleTensor.item().doubleValue }

    public var state: State {
        State(scale: scale, growthTracker: growthTracker.item().intValue, growthFactor: growthFactor, backoffFactor: backoffFactor,
              growthInterval: growthInterval)
    }

    /// Restores a saved scale and tracker (the settings are this scaler's own).
    public func load(_ state: State) {
        scaleTensor.fill_(Scalar(state.scale))
        growthTracker.fill_(Scalar(state.growthTracker))
    }

    /// `loss × scale` (GradScaler.scale).
    public func scaled(_ loss: Tensor) -> Tensor { loss * scaleTensor.to(device: loss.device) }

    /// Divides `grads` in place by the scale (times 1/scale in float32, as torch computes
    /// `scale.double().reciprocal().float()`) and records whether any element is inf or NaN.
    public func unscale(_ grads: [Tensor]) {
        precondition(!unscaled, "GradScaler.unscale: already unscaled since the last update()")
        let inverse = scaleTensor.to(.float64).reciprocal().to(.float32)
        OptimizerKernels.unscaleGradients(grads, foundInf: foundInfTensor, inverseScale: inverse)
        unscaled = true
    }

    /// Lets `agree` combine this step's found-inf flag (float32 `[1]`, 1 = overflow, on the scaler's
    /// device) in place with the other ranks' — a maximum over ranks — so that every rank of a
    /// data-parallel run skips the same steps and keeps the same scale. Call it after `unscale`.
    public func agreeOnFoundInf(_ agree: (Tensor) throws -> Void) rethrows {
        precondition(unscaled, "GradScaler.agreeOnFoundInf before unscale")
        try agree(foundInfTensor)
    }

    /// Whether the gradients `unscale` saw had an inf or NaN: the optimiser step must be skipped.
    public var foundInf: Bool { foundInfTensor.item().doubleValue != 0 }

    /// Adjusts the scale after a step (torch's `_amp_update_scale_`) and resets for the next one.
    public func update() {
        OptimizerKernels.updateScale(scaleTensor, growthTracker: growthTracker, foundInf: foundInfTensor, growth: growthFactor,
                                     backoff: backoffFactor, interval: growthInterval)
        foundInfTensor.zero_()
        unscaled = false
    }
}
