import Torch

/// Where one module is built: its checkpoint key (`language_model.model.layers.3`) over the model's
/// weight source. The module's initialiser takes its parameters from the scope by key, builds its
/// children in child scopes, and hands the scope to ``Module/init(_:)``, which adopts what was
/// registered — so each key is written once, where the part is made (as tch-rs's `nn::Path`).
///
/// Entries are recorded in the order the initialiser makes them.
public final class ModuleScope {
    /// The full checkpoint key of the module being built ("" at a model's root).
    public let key: String
    /// The weight source all scopes of one model share.
    public let loader: WeightLoader
    private let parent: ModuleScope?
    private let localKey: String
    private var entries: [(key: String, entry: ModuleEntry)] = []
    private var closed = false

    /// The scope of a model's root module — or of a module built on its own under `key`, which no
    /// scope above records (a part whose weights are read or drawn but not kept, for instance).
    public init(loader: WeightLoader, key: String = "") {
        self.key = key
        self.loader = loader
        parent = nil
        localKey = key
    }

    /// A root scope without weights, for modules whose parameters are made by hand (``register(_:as:)``).
    public convenience init() {
        self.init(loader: WeightLoader(tensors: [:], source: "no checkpoint"))
    }

    private init(parent: ModuleScope, key: String) {
        self.key = joinKey(parent.key, key)
        loader = parent.loader
        self.parent = parent
        localKey = key
    }

    /// The scope of a child module stored under `key` (relative to this one; dots allowed).
    public func child(_ key: String) -> ModuleScope { ModuleScope(parent: self, key: key) }

    /// Takes the parameter `key` with the shape the config implies from the loader (strictly:
    /// missing, mis-shaped or non-floating tensors are errors naming the key) and registers it.
    public func parameter(_ key: String, shape: [Int]) throws -> Parameter {
        register(try loader.take(joinKey(self.key, key), shape: shape), as: key)
    }

    /// Registers a parameter made elsewhere under `key`.
    @discardableResult
    public func register(_ parameter: Parameter, as key: String) -> Parameter {
        record(key, .parameter(parameter))
        return parameter
    }

    /// Registers a module that already exists (one shared with another model) under `key`. Its
    /// weights are not read again: the loader's tensors under `key` are dropped.
    public func share(_ module: Module, as key: String) {
        loader.discardAll(prefix: joinKey(self.key, key) + ".")
        record(key, .module(module))
    }

    /// Drops the tensor `key` if the checkpoint has it (a derived buffer, or a tied head saved anyway).
    public func discard(_ key: String) { loader.discard(joinKey(self.key, key)) }

    /// Registers every tensor the loader still holds under this scope's key, as stored and frozen,
    /// sorted by key: weights a checkpoint carries that the model keeps but never runs.
    public func keepRemaining() {
        let prefix = key.isEmpty ? "" : key + "."
        for (name, p) in loader.takeAll(prefix: prefix) { register(p, as: String(name.dropFirst(prefix.count))) }
    }

    private func record(_ key: String, _ entry: ModuleEntry) {
        precondition(!closed, "\(self.key): '\(key)' registered after the module adopted its scope")
        entries.append((key, entry))
    }

    /// Hands the entries to the module being initialised; a scope serves one module.
    func close() -> [(key: String, entry: ModuleEntry)] {
        precondition(!closed, "\(key): two modules built in one scope")
        closed = true
        return entries
    }

    /// Records the finished module with the scope it was made in.
    func attach(_ module: Module) { parent?.record(localKey, .module(module)) }
}
