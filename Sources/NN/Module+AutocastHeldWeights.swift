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
        var converted = 0
        for p in parametersReadOnlyByLinearLayers(sparing: sparing)
        where !p.trainable && p.value.dtype.isFloatingPoint && p.value.dtype != dtype {
            p.value = p.value.detach().to(dtype)
            converted += p.value.count
        }
        return converted
    }

    /// The parameters that only `Linear` layers read (their weights and biases): those autocast rounds
    /// to its dtype before every use. A parameter also read by another module (a tied embedding's
    /// lookup, which autocast does not cast) or named in `sparing` is left out.
    public func parametersReadOnlyByLinearLayers(sparing: Set<ObjectIdentifier> = []) -> [Parameter] {
        var linear: [(ObjectIdentifier, Parameter)] = []
        var readElsewhere = sparing
        func visit(_ module: Module) {
            for (_, entry) in module.entries {
                switch entry {
                case .parameter(let p):
                    if module is Linear { linear.append((ObjectIdentifier(p), p)) } else { readElsewhere.insert(ObjectIdentifier(p)) }
                case .module(let child):
                    visit(child)
                }
            }
        }
        visit(self)
        var seen = Set<ObjectIdentifier>()
        return linear.filter { !readElsewhere.contains($0.0) && seen.insert($0.0).inserted }.map(\.1)
    }
}
