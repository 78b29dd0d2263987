/// Expressions of the supported Jinja subset.
indirect enum JinjaExpr: Sendable {
    case literal(JinjaValue)
    case name(String)
    case list([JinjaExpr])
    case tuple([JinjaExpr])
    case dict([(JinjaExpr, JinjaExpr)])
    /// `obj.name`: attribute first, then item (jinja2's `getattr`).
    case attribute(JinjaExpr, String)
    /// `obj[key]`: item first, then attribute (jinja2's `getitem`).
    case item(JinjaExpr, JinjaExpr)
    case slice(JinjaExpr, start: JinjaExpr?, stop: JinjaExpr?, step: JinjaExpr?)
    case call(JinjaExpr, JinjaArguments)
    /// `value | name(args)`; `line` is where the filter name stands.
    case filter(JinjaExpr, name: String, JinjaArguments, line: Int)
    /// `value is name args`.
    case test(JinjaExpr, name: String, JinjaArguments, line: Int)
    case not(JinjaExpr)
    case negate(JinjaExpr)
    case plus(JinjaExpr)
    case binary(JinjaBinaryOperator, JinjaExpr, JinjaExpr)
    case and(JinjaExpr, JinjaExpr)
    case or(JinjaExpr, JinjaExpr)
    /// A comparison chain `a < b <= c` (each link evaluated once, as in Python).
    case compare(JinjaExpr, [(JinjaCompareOperator, JinjaExpr)])
    /// `then if condition else otherwise`; a missing else yields undefined.
    case conditional(condition: JinjaExpr, then: JinjaExpr, otherwise: JinjaExpr?)
}

/// Call arguments: positional, then keyword in source order.
struct JinjaArguments: Sendable {
    var positional: [JinjaExpr] = []
    var keyword: [(String, JinjaExpr)] = []
}

enum JinjaBinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%"
    case power = "**", concat = "~"
}

enum JinjaCompareOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case contains = "in", notContains = "not in"
}

/// The left side of `{% set %}` or a for loop.
indirect enum JinjaTarget: Sendable {
    case name(String)
    case tuple([JinjaTarget])
    /// `namespace.attribute`, the only assignable attribute form.
    case namespaceAttribute(String, String)
}

/// A filter application inside `{% filter %}` or a block `{% set x | f %}`.
struct JinjaFilterCall: Sendable {
    var name: String
    var arguments: JinjaArguments
    var line: Int
}

/// A macro definition (shared by the statement and the runtime value).
struct JinjaMacroDefinition: Sendable {
    var name: String
    var parameters: [(String, JinjaExpr?)]
    var body: [JinjaNode]
}

/// One statement or piece of output of a parsed template.
struct JinjaNode: Sendable {
    indirect enum Kind: Sendable {
        case text(String)
        case output(JinjaExpr)
        case ifBlock(branches: [(JinjaExpr, [JinjaNode])], otherwise: [JinjaNode])
        case forLoop(target: JinjaTarget, iterable: JinjaExpr, condition: JinjaExpr?, body: [JinjaNode],
                     otherwise: [JinjaNode])
        case set(JinjaTarget, JinjaExpr)
        case setBlock(JinjaTarget, filters: [JinjaFilterCall], body: [JinjaNode])
        /// HF's `{% generation %}` extension: renders its body and records its character span.
        case generation([JinjaNode])
        case breakLoop
        case continueLoop
        case macro(JinjaMacroDefinition)
        /// `{% call(params) macro(args) %}body{% endcall %}`: `caller()` inside the macro renders body.
        case callBlock(JinjaExpr, callerParameters: [(String, JinjaExpr?)], body: [JinjaNode])
        case filterBlock([JinjaFilterCall], body: [JinjaNode])
        case with([(JinjaTarget, JinjaExpr)], body: [JinjaNode])
    }

    var kind: Kind
    var line: Int
}
