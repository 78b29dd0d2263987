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

/// A part of a model. Its parameters are reported under the checkpoint names they load from,
/// so the module tree mirrors the checkpoint keys.
public protocol Module: AnyObject {
    /// Appends `(prefix + local name, parameter)` for every parameter of this module and its children.
    func collectParameters(prefix: String, into list: inout [(String, Parameter)])
}

extension Module {
    /// Every parameter with its full checkpoint name, in a stable order.
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var list: [(String, Parameter)] = []
        collectParameters(prefix: prefix, into: &list)
        return list.map { (name: $0.0, parameter: $0.1) }
    }

    /// Marks parameters whose names start with any of `prefixes` as frozen (or trainable).
    /// Returns how many parameters changed.
    @discardableResult
    public func setTrainable(_ flag: Bool, prefixes: [String]) -> Int {
        var changed = 0
        for (name, p) in namedParameters() where prefixes.contains(where: { name.hasPrefix($0) }) {
            p.setTrainable(flag)
            changed += 1
        }
        return changed
    }

    /// Number of scalar weights, optionally only those under `prefix`. Tied parameters count once.
    public func parameterCount(prefix: String = "") -> Int {
        var seen = Set<ObjectIdentifier>()
        var total = 0
        for (name, p) in namedParameters() where name.hasPrefix(prefix) {
            if seen.insert(ObjectIdentifier(p)).inserted { total += p.value.count }
        }
        return total
    }

    /// Converts every floating-point parameter to `dtype` and/or moves it to `device`, keeping
    /// each parameter's trainable flag.
    public func to(_ dtype: DType? = nil, device: Device? = nil) {
        var seen = Set<ObjectIdentifier>()
        for (_, p) in namedParameters() where seen.insert(ObjectIdentifier(p)).inserted {
            let target = p.value.dtype.isFloatingPoint ? dtype : nil
            let moved = p.value.detach().to(target, device: device)
            p.value = p.trainable ? moved.requiresGrad(true) : moved
        }
    }

    /// The parameters as a name → tensor map (detached), e.g. for saving.
    public func stateDict() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, p) in namedParameters() { out[name] = p.value.detach() }
        return out
    }
}

/// Joins checkpoint name parts with dots, skipping empty parts.
@inline(__always)
public func joinKey(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : (name.isEmpty ? prefix : prefix + "." + name)
}
