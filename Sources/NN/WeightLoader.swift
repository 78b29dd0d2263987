import Torch

/// Errors of loading a model from a checkpoint: each names the file (or folder) and the key.
public enum WeightLoadingError: Error, CustomStringConvertible, Sendable {
    case missing(key: String, source: String)
    case shapeMismatch(key: String, source: String, expected: [Int], found: [Int])
    case unexpected(keys: [String], source: String)
    case wrongDType(key: String, source: String, found: DType)

    public var description: String {
        switch self {
        case .missing(let key, let source):
            "\(source): tensor '\(key)' is missing"
        case .shapeMismatch(let key, let source, let expected, let found):
            "\(source): tensor '\(key)' has shape \(found), the config implies \(expected)"
        case .unexpected(let keys, let source):
            "\(source): \(keys.count) unexpected tensor(s) the model does not use: "
                + keys.prefix(8).map { "'\($0)'" }.joined(separator: ", ") + (keys.count > 8 ? ", …" : "")
        case .wrongDType(let key, let source, let found):
            "\(source): tensor '\(key)' is \(found), expected a floating-point tensor"
        }
    }
}

/// Hands out a checkpoint's tensors to the modules being built, strictly: each key is taken at most
/// once with the shape the config implies, and `finish()` fails on anything left over.
public final class WeightLoader {
    private var tensors: [String: Tensor]
    /// When set, `take` invents weights instead of reading them (random models for tests and benchmarks).
    private let random: (generator: Generator, std: Double)?
    /// The checkpoint file or folder, for error messages.
    public let source: String
    /// Dtype parameters are converted to while loading (nil keeps the file's).
    public let dtype: DType?
    public let device: Device

    public init(tensors: [String: Tensor], source: String, dtype: DType? = nil, device: Device = .cpu) {
        self.tensors = tensors
        self.source = source
        self.dtype = dtype
        self.device = device
        random = nil
    }

    /// A loader that makes up every weight, seeded: normal(0, std) for matrices and biases,
    /// 1 + normal(0, std) for other vectors (norm weights).
    public init(randomSeed: UInt64, std: Double = 0.02, dtype: DType = .float32, device: Device = .cpu) {
        tensors = [:]
        source = "random weights (seed \(randomSeed))"
        self.dtype = dtype
        self.device = device
        random = (Generator(seed: randomSeed), std)
    }

    /// Takes `key`, checking its shape, converted to the loader's dtype and device.
    public func take(_ key: String, shape: [Int]) throws -> Parameter {
        if let random {
            var t = Tensor.randn(shape, dtype: .float32, generator: random.generator) * random.std
            if shape.count == 1 { t = t + (key.hasSuffix("bias") ? 0.0 : 1.0) }
            return Parameter(t.to(dtype, device: device).requiresGrad(true))
        }
        guard let t = tensors.removeValue(forKey: key) else { throw WeightLoadingError.missing(key: key, source: source) }
        guard t.shape == shape else {
            throw WeightLoadingError.shapeMismatch(key: key, source: source, expected: shape, found: t.shape)
        }
        guard t.dtype.isFloatingPoint else { throw WeightLoadingError.wrongDType(key: key, source: source, found: t.dtype) }
        return Parameter(t.to(dtype, device: device).requiresGrad(true))
    }

    /// Whether `key` is still available.
    public func contains(_ key: String) -> Bool { tensors[key] != nil }

    /// Drops `key` if present (e.g. an lm_head stored although it is tied to the embeddings).
    public func discard(_ key: String) { tensors.removeValue(forKey: key) }

    /// Takes every remaining tensor under `prefix` as-is (weights the model keeps but never uses,
    /// such as a vision tower's pooling head), keyed by full name.
    public func takeAll(prefix: String) -> [(String, Parameter)] {
        let keys = tensors.keys.filter { $0.hasPrefix(prefix) }.sorted()
        return keys.compactMap { key in
            tensors.removeValue(forKey: key).map { (key, Parameter($0.to(dtype, device: device), trainable: false)) }
        }
    }

    /// Whether weights are invented (``init(randomSeed:std:dtype:device:)``) rather than read.
    public var isRandom: Bool { random != nil }

    /// Drops every remaining tensor under `prefix` (weights another model already holds).
    public func discardAll(prefix: String) {
        for key in tensors.keys.filter({ $0.hasPrefix(prefix) }) { tensors.removeValue(forKey: key) }
    }

    /// Fails if any tensor was not taken.
    public func finish() throws {
        if !tensors.isEmpty { throw WeightLoadingError.unexpected(keys: tensors.keys.sorted(), source: source) }
    }
}
