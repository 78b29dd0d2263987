import Torch

/// A named, replaceable tensor of a model. Modules hold parameters by reference so that dtype or
/// device moves and optimiser updates reach every place that uses them.
public final class Parameter: @unchecked Sendable {
    public var value: Tensor
    /// Whether the optimiser updates this parameter (`requires_grad`).
    public private(set) var trainable: Bool

    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = value
        self.trainable = trainable
    }

    /// Turns gradient recording for this parameter on or off.
    public func setTrainable(_ flag: Bool) {
        trainable = flag
        value = value.detach()
        if flag { value.requiresGrad(true) }
    }
}

/// Joins checkpoint name parts with dots, skipping empty parts.
@inline(__always)
public func joinKey(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : (name.isEmpty ? prefix : prefix + "." + name)
}
