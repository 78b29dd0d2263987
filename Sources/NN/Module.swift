import Torch

/// A parameter or a child module, as a module holds it under its key.
public enum ModuleEntry {
    case parameter(Parameter)
    case module(Module)
}

/// A part of a model, and the one place its checkpoint keys are written.
///
/// A module is built in a ``ModuleScope``: its initialiser takes each parameter from the scope by
/// key, builds each child in `scope.child(key)`, and ends with `super.init(scope)`, which adopts
/// what was registered. Loading (strict, by key), saving, counting, freezing, dtype/device moves and
/// the optimiser's named parameters all walk the tree this builds:
///
/// ```swift
/// final class MLP: Module {
///     let up, down: Linear
///     init(_ scope: ModuleScope, width: Int, hidden: Int) throws {
///         up = try Linear(scope.child("up_proj"), inFeatures: width, outFeatures: hidden, bias: false)
///         down = try Linear(scope.child("down_proj"), inFeatures: hidden, outFeatures: width, bias: false)
///         super.init(scope)
///     }
/// }
/// ```
///
/// Entries keep the order the initialisers make them in, which is also the order a random-weight
/// loader draws them in.
open class Module {
    /// This module's parameters and children under their keys relative to it, in registration order.
    /// A key may hold dots (`self_attn.q_proj`) where no module stands for the levels between.
    public let entries: [(key: String, entry: ModuleEntry)]

    /// Adopts everything registered in `scope` and registers this module with the scope's parent.
    public init(_ scope: ModuleScope) {
        entries = scope.close()
        scope.attach(self)
    }
}

extension Module {
    /// Calls `body` with every parameter of this module and its children and its full checkpoint
    /// name (`prefix` + the keys down to it), depth-first in registration order. A parameter held in
    /// two places is visited at each.
    public func forEachParameter(prefix: String = "", _ body: (String, Parameter) throws -> Void) rethrows {
        for (key, entry) in entries {
            let name = joinKey(prefix, key)
            switch entry {
            case .parameter(let p): try body(name, p)
            case .module(let m): try m.forEachParameter(prefix: name, body)
            }
        }
    }

    /// Every parameter with its full checkpoint name, in registration order.
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var list: [(name: String, parameter: Parameter)] = []
        forEachParameter(prefix: prefix) { list.append((name: $0, parameter: $1)) }
        return list
    }

    /// Marks parameters whose names start with any of `prefixes` as frozen (or trainable); `[""]`
    /// (the default) is every parameter of this module. Returns how many parameters changed.
    @discardableResult
    public func setTrainable(_ flag: Bool, prefixes: [String] = [""]) -> Int {
        var changed = 0
        forEachParameter { name, p in
            guard prefixes.contains(where: { name.hasPrefix($0) }) else { return }
            p.setTrainable(flag)
            changed += 1
        }
        return changed
    }

    /// Number of scalar weights, optionally only those under `prefix`. Tied parameters count once.
    public func parameterCount(prefix: String = "") -> Int {
        var seen = Set<ObjectIdentifier>()
        var total = 0
        forEachParameter { name, p in
            if name.hasPrefix(prefix), seen.insert(ObjectIdentifier(p)).inserted { total += p.value.count }
        }
        return total
    }

    /// Converts every floating-point parameter to `dtype` and/or moves it to `device`, keeping
    /// each parameter's trainable flag.
    public func to(_ dtype: DType? = nil, device: Device? = nil) {
        var seen = Set<ObjectIdentifier>()
        forEachParameter { _, p in
            guard seen.insert(ObjectIdentifier(p)).inserted else { return }
            let target = p.value.dtype.isFloatingPoint ? dtype : nil
            let moved = p.value.detach().to(target, device: device)
            p.value = p.trainable ? moved.requiresGrad(true) : moved
        }
    }

    /// The parameters as a name → tensor map (detached), e.g. for saving.
    public func stateDict() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        forEachParameter { name, p in out[name] = p.value.detach() }
        return out
    }
}
