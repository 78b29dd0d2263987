/// A value inside a chat template, with the Python semantics Jinja gives it (HF renders chat
/// templates with Python jinja2, so truthiness, `str()`, equality and ordering follow Python).
///
/// Build messages with literals: `["role": "user", "content": "Hi"]` is a `.dict`, and
/// ``JinjaValue/parseJSON(_:name:)`` turns JSON text into values with dict key order preserved.
public enum JinjaValue: Sendable {
    /// Jinja's `Undefined`: a missing variable, key or attribute. Prints as "", is falsy, and
    /// fails (with `hint`) when used as an object.
    case undefined(hint: String)
    /// Python `None` (`none` in templates).
    case none
    /// Python `bool`.
    case bool(Bool)
    /// Python `int` (64-bit here; overflow is an error).
    case int(Int)
    /// Python `float`.
    case double(Double)
    /// Python `str`; indices and lengths count Unicode scalars, as Python does.
    case string(String)
    /// Python `list`.
    case list([JinjaValue])
    /// Python `tuple` (as made by `(a, b)` or `dict.items()`): a list that prints with parentheses.
    case tuple([JinjaValue])
    /// Python `dict` with string keys, insertion-ordered.
    case dict(JinjaDict)
    /// The object made by `namespace()`.
    case namespace(JinjaNamespace)
    /// The `loop` variable of a for loop.
    indirect case loop(JinjaLoop)
    /// A callable (global function or bound method).
    case function(JinjaFunction)
    /// A macro defined with `{% macro %}` (callable; carries its definition).
    case macro(JinjaMacro)

    /// An undefined value for a missing variable `name`.
    static func undefinedName(_ name: String) -> JinjaValue { .undefined(hint: "'\(name)' is undefined") }

    /// Python truthiness.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case let .bool(b): return b
        case let .int(i): return i != 0
        case let .double(d): return d != 0
        case let .string(s): return !s.isEmpty
        case let .list(a), let .tuple(a): return !a.isEmpty
        case let .dict(d): return !d.isEmpty
        case .namespace, .loop, .function, .macro: return true
        }
    }

    /// Whether this is Jinja's `Undefined`.
    public var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// The Python type name, for error messages that mirror Python's.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .loop: return "LoopContext"
        case .function: return "builtin_function_or_method"
        case .macro: return "Macro"
        }
    }

    /// The elements when this is a list or tuple.
    var sequenceElements: [JinjaValue]? {
        switch self {
        case let .list(a), let .tuple(a): return a
        default: return nil
        }
    }

    /// Python `str(value)`, which is what `{{ value }}` prints.
    public var pythonString: String {
        switch self {
        case .undefined: return ""
        case let .string(s): return s
        default: return pythonRepr
        }
    }

    /// Python `repr(value)` (how values print inside lists and dicts).
    public var pythonRepr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case let .bool(b): return b ? "True" : "False"
        case let .int(i): return String(i)
        case let .double(d): return PythonFormat.floatRepr(d)
        case let .string(s): return PythonFormat.stringRepr(s)
        case let .list(a): return "[" + a.map(\.pythonRepr).joined(separator: ", ") + "]"
        case let .tuple(a):
            if a.count == 1 { return "(" + a[0].pythonRepr + ",)" }
            return "(" + a.map(\.pythonRepr).joined(separator: ", ") + ")"
        case let .dict(d):
            return "{" + d.pairs.map { PythonFormat.stringRepr($0.key) + ": " + $0.value.pythonRepr }
                .joined(separator: ", ") + "}"
        case let .namespace(ns):
            return "<Namespace " + JinjaValue.dict(ns.attributes).pythonRepr + ">"
        case .loop: return "<LoopContext>"
        case let .function(f): return "<built-in function \(f.name)>"
        case let .macro(m): return "<Macro '\(m.name)'>"
        }
    }
}

extension JinjaValue: Equatable {
    /// Python `==`: numbers compare by value across int/float/bool, containers element-wise,
    /// and `Undefined` equals only `Undefined`.
    public static func == (lhs: JinjaValue, rhs: JinjaValue) -> Bool {
        switch (lhs, rhs) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(a), .string(b)): return a == b
        case let (.list(a), .list(b)), let (.tuple(a), .tuple(b)): return a == b
        case let (.dict(a), .dict(b)): return a == b
        case let (.namespace(a), .namespace(b)): return a === b
        default:
            if let a = lhs.numericValue, let b = rhs.numericValue {
                switch (a, b) {
                case let (.int(x), .int(y)): return x == y
                default: return a.asDouble == b.asDouble
                }
            }
            return false
        }
    }

    /// The number this value stands for (bools are ints in Python), or nil.
    var numericValue: JinjaNumber? {
        switch self {
        case let .bool(b): return .int(b ? 1 : 0)
        case let .int(i): return .int(i)
        case let .double(d): return .double(d)
        default: return nil
        }
    }
}

/// A Python number, for arithmetic.
enum JinjaNumber {
    case int(Int)
    case double(Double)

    var asDouble: Double {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        }
    }
}

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JinjaValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, JinjaValue)...) { self = .dict(JinjaDict(elements)) }
    public init(nilLiteral: ()) { self = .none }
}
