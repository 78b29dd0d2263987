/// A variable scope. Loops, macros and `with` blocks open a child; `if` does not (as in Jinja).
///
/// Child scopes hold a handful of names (a loop target and `loop`), so they are small arrays
/// searched linearly — cheaper than hashing the name at every level of the chain; the root
/// scope (globals and caller variables) is a dictionary.
final class JinjaScope {
    private var names: [String] = []
    private var values: [JinjaValue] = []
    private var table: [String: JinjaValue]
    let parent: JinjaScope?

    init(parent: JinjaScope?, variables: [String: JinjaValue] = [:]) {
        self.parent = parent
        self.table = variables
    }

    /// Binds `name` in this scope.
    func set(_ name: String, _ value: JinjaValue) {
        if parent == nil {
            table[name] = value
            return
        }
        if let i = names.firstIndex(of: name) {
            values[i] = value
        } else {
            names.append(name)
            values.append(value)
        }
    }

    /// The innermost binding of `name`, or nil.
    func lookup(_ name: String) -> JinjaValue? {
        var scope: JinjaScope? = self
        while let s = scope {
            if s.parent == nil { return s.table[name] }
            if let i = s.names.firstIndex(of: name) { return s.values[i] }
            scope = s.parent
        }
        return nil
    }
}

/// A scope captured by a macro definition. Scopes live only inside one `render` call, which is
/// single-threaded, so sharing the reference is safe.
struct JinjaScopeBox: @unchecked Sendable {
    let scope: JinjaScope
}

/// A macro value (from `{% macro %}` or the `caller` of a call block).
public struct JinjaMacro: Sendable {
    /// The macro's name.
    public let name: String
    let definition: JinjaMacroDefinition
    let closure: JinjaScopeBox
}

/// Walks the AST of one template for one `render` call, collecting output and the character
/// spans of `{% generation %}` blocks exactly as HF's AssistantTracker records them.
final class JinjaRenderer {
    let templateName: String
    /// The line of the statement being executed, for error messages.
    var line = 1
    /// Top-level output, i.e. what jinja2's generator has yielded so far.
    private var root = ""
    private var rootScalarCount = 0
    /// How many pieces were emitted at top level (HF's tracker only records spans once
    /// something has been yielded or a span exists).
    private var rootPieces = 0
    /// Buffers of constructs whose output is captured (set blocks, macros, generation bodies …).
    private var captures: [String] = []
    private(set) var spans: [Range<Int>] = []
    private var macroDepth = 0

    init(templateName: String) { self.templateName = templateName }

    enum Flow { case normal, breakLoop, continueLoop }

    /// Renders `nodes` in `scope`; returns the text and generation spans.
    func render(_ nodes: [JinjaNode], scope: JinjaScope) throws -> (String, [Range<Int>]) {
        do {
            let flow = try execute(nodes, scope: scope)
            if flow != .normal { throw JinjaRuntimeError.message("'break' or 'continue' outside of a loop") }
        } catch let error as JinjaRuntimeError {
            switch error {
            case let .message(m): throw ChatTemplateError.render(template: templateName, line: line, message: m)
            case let .raised(m): throw ChatTemplateError.raised(template: templateName, line: line, message: m)
            }
        }
        return (root, spans)
    }

    // MARK: output

    private func emit(_ text: String) {
        if captures.isEmpty {
            root += text
            rootScalarCount += text.unicodeScalars.count
            rootPieces += 1
        } else {
            captures[captures.count - 1] += text
        }
    }

    /// Runs `body` with its output captured, returning that output.
    private func capture(_ body: () throws -> Flow) throws -> String {
        captures.append("")
        let flow: Flow
        do {
            flow = try body()
        } catch {
            captures.removeLast()
            throw error
        }
        let text = captures.removeLast()
        if flow != .normal { throw JinjaRuntimeError.message("'break' or 'continue' outside of a loop") }
        return text
    }

    // MARK: statements

    func execute(_ nodes: [JinjaNode], scope: JinjaScope) throws -> Flow {
        for node in nodes {
            line = node.line
            switch node.kind {
            case let .text(text):
                emit(text)
            case let .output(expr):
                emit(try evaluate(expr, scope).pythonString)
            case let .ifBlock(branches, otherwise):
                var taken = false
                for (condition, body) in branches where try evaluate(condition, scope).isTruthy {
                    taken = true
                    let flow = try execute(body, scope: scope)
                    if flow != .normal { return flow }
                    break
                }
                if !taken {
                    let flow = try execute(otherwise, scope: scope)
                    if flow != .normal { return flow }
                }
            case let .forLoop(target, iterable, condition, body, otherwise):
                try executeFor(target: target, iterable: iterable, condition: condition, body: body,
                               otherwise: otherwise, scope: scope, line: node.line)
            case let .set(target, expr):
                try assign(target, try evaluate(expr, scope), in: scope)
            case let .setBlock(target, filters, body):
                var value: JinjaValue = .string(try capture { try execute(body, scope: scope) })
                for f in filters { value = try applyFilter(f.name, to: value, f.arguments, scope) }
                try assign(target, value, in: scope)
            case let .generation(body):
                let text = try capture { try execute(body, scope: scope) }
                // Mirrors HF's AssistantTracker: the span starts at the length of what the
                // top-level generator has yielded so far, and is only recorded once the tracker
                // "is active" (something yielded or a span already recorded).
                if rootPieces > 0 || !spans.isEmpty {
                    spans.append(rootScalarCount..<rootScalarCount + text.unicodeScalars.count)
                }
                emit(text)
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            case let .macro(definition):
                scope.set(definition.name, .macro(
                    JinjaMacro(name: definition.name, definition: definition, closure: JinjaScopeBox(scope: scope))))
            case let .callBlock(call, callerParameters, body):
                guard case let .call(callee, arguments) = call else {
                    throw JinjaRuntimeError.message("call block needs a macro call")
                }
                let caller = JinjaMacro(
                    name: "caller", definition: JinjaMacroDefinition(name: "caller", parameters: callerParameters, body: body),
                    closure: JinjaScopeBox(scope: scope))
                let function = try evaluate(callee, scope)
                var (positional, keyword) = try evaluateArguments(arguments, scope)
                keyword.append(("caller", .macro(caller)))
                emit(try callValue(function, positional, keyword).pythonString)
            case let .filterBlock(filters, body):
                var value: JinjaValue = .string(try capture { try execute(body, scope: scope) })
                for f in filters { value = try applyFilter(f.name, to: value, f.arguments, scope) }
                emit(value.pythonString)
            case let .with(assignments, body):
                let inner = JinjaScope(parent: scope)
                for (target, expr) in assignments { try assign(target, try evaluate(expr, scope), in: inner) }
                let flow = try execute(body, scope: inner)
                if flow != .normal { return flow }
            }
        }
        return .normal
    }

    private func executeFor(target: JinjaTarget, iterable: JinjaExpr, condition: JinjaExpr?, body: [JinjaNode],
                            otherwise: [JinjaNode], scope: JinjaScope, line: Int) throws {
        var items = try iterate(try evaluate(iterable, scope))
        if let condition {
            // The loop's `if` filters before iterating, so loop.length/last count kept items only.
            var kept: [JinjaValue] = []
            let probe = JinjaScope(parent: scope)
            for item in items {
                try assign(target, item, in: probe)
                if try evaluate(condition, probe).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try execute(otherwise, scope: scope)
            return
        }
        // loop.depth only grows in recursive loops (unsupported), so nested loops report 1 as in jinja2.
        let depth = 1
        for (i, item) in items.enumerated() {
            let inner = JinjaScope(parent: scope)
            try assign(target, item, in: inner)
            inner.set("loop", .loop(JinjaLoop(
                index0: i, length: items.count,
                previous: i > 0 ? items[i - 1] : .undefined(hint: "there is no previous item"),
                next: i + 1 < items.count ? items[i + 1] : .undefined(hint: "there is no next item"),
                depth: depth)))
            let flow = try execute(body, scope: inner)
            self.line = line
            if flow == .breakLoop { break }
        }
    }

    /// Python iteration: lists/tuples by element, dicts by key, strings by character.
    func iterate(_ value: JinjaValue) throws -> [JinjaValue] {
        switch value {
        case let .list(a), let .tuple(a): return a
        case let .dict(d): return d.keys.map { .string($0) }
        case let .string(s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        case let .namespace(ns): return ns.attributes.keys.map { .string($0) }
        default: throw JinjaRuntimeError.message("'\(value.typeName)' object is not iterable")
        }
    }

    private func assign(_ target: JinjaTarget, _ value: JinjaValue, in scope: JinjaScope) throws {
        switch target {
        case let .name(name):
            scope.set(name, value)
        case let .tuple(targets):
            let items = try iterate(value)
            guard items.count == targets.count else {
                throw JinjaRuntimeError.message(items.count < targets.count
                    ? "not enough values to unpack (expected \(targets.count), got \(items.count))"
                    : "too many values to unpack (expected \(targets.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, in: scope) }
        case let .namespaceAttribute(name, attribute):
            guard case let .namespace(ns)? = scope.lookup(name) else {
                throw JinjaRuntimeError.message("can't assign attribute '\(attribute)' on non-namespace object '\(name)'")
            }
            ns.attributes[attribute] = value
        }
    }

    // MARK: calls

    func evaluateArguments(_ arguments: JinjaArguments, _ scope: JinjaScope) throws
        -> ([JinjaValue], [(String, JinjaValue)])
    {
        var positional: [JinjaValue] = []
        positional.reserveCapacity(arguments.positional.count)
        for a in arguments.positional { positional.append(try evaluate(a, scope)) }
        var keyword: [(String, JinjaValue)] = []
        for (k, a) in arguments.keyword { keyword.append((k, try evaluate(a, scope))) }
        return (positional, keyword)
    }

    func callValue(_ callee: JinjaValue, _ positional: [JinjaValue], _ keyword: [(String, JinjaValue)]) throws
        -> JinjaValue
    {
        switch callee {
        case let .function(f):
            return try f.body(positional, keyword)
        case let .macro(m):
            return try callMacro(m, positional, keyword)
        case let .undefined(hint):
            throw JinjaRuntimeError.message(hint)
        default:
            throw JinjaRuntimeError.message("'\(callee.typeName)' object is not callable")
        }
    }

    private func callMacro(_ macro: JinjaMacro, _ positional: [JinjaValue], _ keyword: [(String, JinjaValue)]) throws
        -> JinjaValue
    {
        let parameters = macro.definition.parameters
        guard positional.count <= parameters.count else {
            throw JinjaRuntimeError.message(
                "macro '\(macro.name)' takes not more than \(parameters.count) argument(s)")
        }
        guard macroDepth < 64 else { throw JinjaRuntimeError.message("macro recursion is too deep") }
        let scope = JinjaScope(parent: macro.closure.scope)
        var remaining = keyword
        for (i, (name, defaultValue)) in parameters.enumerated() {
            if i < positional.count {
                scope.set(name, positional[i])
            } else if let k = remaining.firstIndex(where: { $0.0 == name }) {
                scope.set(name, remaining.remove(at: k).1)
            } else if let defaultValue {
                scope.set(name, try evaluate(defaultValue, scope))
            } else {
                scope.set(name, .undefined(hint: "parameter '\(name)' was not provided"))
            }
        }
        if let k = remaining.firstIndex(where: { $0.0 == "caller" }) {
            scope.set("caller", remaining.remove(at: k).1)
        }
        if let extra = remaining.first {
            throw JinjaRuntimeError.message("macro '\(macro.name)' takes no keyword argument '\(extra.0)'")
        }
        macroDepth += 1
        defer { macroDepth -= 1 }
        let savedLine = line
        let text = try capture { try execute(macro.definition.body, scope: scope) }
        line = savedLine
        return .string(text)
    }
}
