/// An insertion-ordered string-keyed dictionary, the Jinja view of a Python `dict`.
///
/// Chat templates iterate messages' keys and serialise them with `tojson`; both must follow
/// the order the keys were inserted in, as Python dicts do, so a plain `Dictionary` won't do.
public struct JinjaDict: Sendable, Equatable {
    /// Keys in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: JinjaValue] = [:]

    /// An empty dictionary.
    public init() {}

    /// A dictionary holding `pairs` in order; a repeated key keeps its first position and last
    /// value, as a Python dict literal does.
    public init(_ pairs: [(String, JinjaValue)]) {
        keys.reserveCapacity(pairs.count)
        storage.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    /// Number of entries.
    public var count: Int { keys.count }
    /// Whether the dictionary has no entries.
    public var isEmpty: Bool { keys.isEmpty }

    /// The value for `key`, or nil; setting nil removes the key.
    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Values in key order.
    public var values: [JinjaValue] { keys.map { storage[$0] ?? .none } }

    /// (key, value) pairs in key order.
    public var pairs: [(key: String, value: JinjaValue)] { keys.map { ($0, storage[$0] ?? .none) } }

    public static func == (lhs: JinjaDict, rhs: JinjaDict) -> Bool {
        // Python dict equality ignores order.
        lhs.storage == rhs.storage
    }
}

/// The mutable object made by `namespace(...)`: the only state a template can change from inside
/// a loop (`{% set ns.found = true %}`), so it has reference semantics like the Python object.
///
/// It is created and mutated only during one single-threaded `render` call and never escapes it,
/// which is why the unchecked `Sendable` is sound.
public final class JinjaNamespace: @unchecked Sendable {
    /// The attributes, in insertion order.
    public var attributes: JinjaDict

    /// A namespace holding `attributes`.
    public init(_ attributes: JinjaDict = JinjaDict()) { self.attributes = attributes }
}

/// The `loop` object of a `{% for %}` iteration; its attributes are computed on access.
public struct JinjaLoop: Sendable {
    /// 0-based position of the current item.
    public var index0: Int
    /// Number of items iterated (after the loop's `if` filter).
    public var length: Int
    /// The previous item, or undefined on the first iteration.
    public var previous: JinjaValue
    /// The next item, or undefined on the last iteration.
    public var next: JinjaValue
    /// 1 for the outermost loop.
    public var depth: Int
}

/// A built-in callable value (a global function such as `range` or a bound method).
public struct JinjaFunction: Sendable {
    /// The name shown in error messages.
    public var name: String
    /// The implementation: positional arguments, then keyword arguments in call order.
    public var body: @Sendable ([JinjaValue], [(String, JinjaValue)]) throws -> JinjaValue

    /// A function named `name` run by `body`.
    public init(
        name: String, body: @escaping @Sendable ([JinjaValue], [(String, JinjaValue)]) throws -> JinjaValue
    ) {
        self.name = name
        self.body = body
    }
}
