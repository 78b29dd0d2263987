import Torch

extension Module {
    /// Converts the weight and bias of every `Linear` layer to `dtype`, for a frozen model that only
    /// ever runs under autocast to `dtype`. Autocast rounds a linear layer's float32 weight and bias to
    /// `dtype` (to nearest) before each matmul, so holding them rounded already gives bitwise the same
    /// results, in half the memory and without the per-forward casts.
    ///
    /// Left as they are: trainable parameters (their float32 is the optimiser's master copy), those in
    /// `sparing` (shared with a model that runs outside this rule), and those also read elsewhere than
    /// by a linear layer — a tied embedding, whose lookup autocast does not cast. Returns the number of
    /// values converted.
    @discardableResult
    public func holdLinearWeights(in dtype: DType, sparing: Set<ObjectIdentifier> = []) -> Int {
        var linear: [ObjectIdentifier: Parameter] = [:]
        var readElsewhere = sparing
        func visit(_ module: Module) {
            for (_, entry) in module.entries {
                switch entry {
                case .parameter(let p):
                    if module is Linear { linear[ObjectIdentifier(p)] = p } else { readElsewhere.insert(ObjectIdentifier(p)) }
                case .module(let child):
                    visit(child)
                }
            }
        }
        visit(self)
        var converted = 0
        for (id, p) in linear where !readElsewhere.contains(id) && !p.trainable && p.value.dtype.isFloatingPoint && p.value.dtype != dtype {
            p.value = p.value.detach().to(dtype)
            converted += p.value.count
        }
        return converted
    }
}
