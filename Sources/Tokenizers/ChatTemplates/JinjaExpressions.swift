/// Expression evaluation: names, literals, attribute/item lookup, slicing, operators and
/// comparisons with Python's semantics.
extension JinjaRenderer {
    func evaluate(_ expr: JinjaExpr, _ scope: JinjaScope) throws -> JinjaValue {
        switch expr {
        case let .literal(v):
            return v
        case let .name(n):
            return scope.lookup(n) ?? .undefinedName(n)
        case let .list(items):
            return .list(try items.map { try evaluate($0, scope) })
        case let .tuple(items):
            return .tuple(try items.map { try evaluate($0, scope) })
        case let .dict(pairs):
            var d = JinjaDict()
            for (k, v) in pairs {
                guard case let .string(key) = try evaluate(k, scope) else {
                    throw JinjaRuntimeError.message("only string dictionary keys are supported")
                }
                d[key] = try evaluate(v, scope)
            }
            return .dict(d)
        case let .attribute(target, name):
            return try JinjaLookup.attribute(try evaluate(target, scope), name)
        case let .item(target, key):
            return try JinjaLookup.item(try evaluate(target, scope), try evaluate(key, scope))
        case let .slice(target, start, stop, step):
            let value = try evaluate(target, scope)
            return try JinjaLookup.slice(
                value, start: try start.map { try evaluate($0, scope) }, stop: try stop.map { try evaluate($0, scope) },
                step: try step.map { try evaluate($0, scope) })
        case let .call(callee, arguments):
            let function = try evaluate(callee, scope)
            let (positional, keyword) = try evaluateArguments(arguments, scope)
            return try callValue(function, positional, keyword)
        case let .filter(target, name, arguments, _):
            return try applyFilter(name, to: try evaluate(target, scope), arguments, scope)
        case let .test(target, name, arguments, _):
            guard JinjaTests.names.contains(name) else {
                throw JinjaRuntimeError.message("No test named '\(name)' found.")
            }
            let value = try evaluate(target, scope)
            let (positional, _) = try evaluateArguments(arguments, scope)
            return .bool(try applyTest(name, value, positional))
        case let .not(inner):
            return .bool(!(try evaluate(inner, scope).isTruthy))
        case let .negate(inner):
            let v = try evaluate(inner, scope)
            switch v.numericValue {
            case let .int(i)?:
                guard i != Int.min else { throw JinjaRuntimeError.message("integer overflow") }
                return .int(-i)
            case let .double(d)?: return .double(-d)
            case nil: throw JinjaOperators.operandError("unary -", v)
            }
        case let .plus(inner):
            let v = try evaluate(inner, scope)
            switch v.numericValue {
            case let .int(i)?: return .int(i)
            case let .double(d)?: return .double(d)
            case nil: throw JinjaOperators.operandError("unary +", v)
            }
        case let .binary(op, lhs, rhs):
            return try JinjaOperators.binary(op, try evaluate(lhs, scope), try evaluate(rhs, scope))
        case let .and(lhs, rhs):
            // Python's `and`/`or` return an operand, not a bool.
            let l = try evaluate(lhs, scope)
            return l.isTruthy ? try evaluate(rhs, scope) : l
        case let .or(lhs, rhs):
            let l = try evaluate(lhs, scope)
            return l.isTruthy ? l : try evaluate(rhs, scope)
        case let .compare(first, links):
            var left = try evaluate(first, scope)
            for (op, expr) in links {
                let right = try evaluate(expr, scope)
                if !(try JinjaOperators.compare(op, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case let .conditional(condition, then, otherwise):
            if try evaluate(condition, scope).isTruthy { return try evaluate(then, scope) }
            if let otherwise { return try evaluate(otherwise, scope) }
            return .undefined(hint: "the inline if-expression on line \(line) evaluated to false and no else "
                + "section was defined")
        }
    }
}

/// jinja2's attribute and item lookup rules.
enum JinjaLookup {
    /// `obj.name`: Python attribute (methods) first, then the item.
    static func attribute(_ value: JinjaValue, _ name: String) throws -> JinjaValue {
        switch value {
        case let .undefined(hint):
            throw JinjaRuntimeError.message(hint)
        case let .dict(d):
            if JinjaMethods.dictMethods.contains(name) { return JinjaMethods.bound(value, name) }
            return d[name] ?? .undefined(hint: "'dict object' has no attribute '\(name)'")
        case let .namespace(ns):
            return ns.attributes[name] ?? .undefined(hint: "'Namespace' object has no attribute '\(name)'")
        case let .loop(loop):
            return loopAttribute(loop, name)
        case .string:
            if JinjaMethods.stringMethods.contains(name) { return JinjaMethods.bound(value, name) }
        case .list, .tuple:
            if JinjaMethods.listMethods.contains(name) { return JinjaMethods.bound(value, name) }
        default:
            break
        }
        if JinjaMethods.unsafeMethods.contains(name) { return JinjaMethods.bound(value, name) }
        return .undefined(hint: "'\(value.typeName) object' has no attribute '\(name)'")
    }

    private static func loopAttribute(_ loop: JinjaLoop, _ name: String) -> JinjaValue {
        switch name {
        case "index": return .int(loop.index0 + 1)
        case "index0": return .int(loop.index0)
        case "revindex": return .int(loop.length - loop.index0)
        case "revindex0": return .int(loop.length - loop.index0 - 1)
        case "first": return .bool(loop.index0 == 0)
        case "last": return .bool(loop.index0 == loop.length - 1)
        case "length": return .int(loop.length)
        case "previtem": return loop.previous
        case "nextitem": return loop.next
        case "depth": return .int(loop.depth)
        case "depth0": return .int(loop.depth - 1)
        case "cycle":
            let index0 = loop.index0
            return .function(JinjaFunction(name: "cycle") { args, _ in
                guard !args.isEmpty else { throw JinjaRuntimeError.message("no items for cycling given") }
                return args[index0 % args.count]
            })
        default:
            return .undefined(hint: "'LoopContext object' has no attribute '\(name)'")
        }
    }

    /// `obj[key]`: the item first, then (for string keys) the attribute.
    static func item(_ value: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch (value, key) {
        case let (.undefined(hint), _):
            throw JinjaRuntimeError.message(hint)
        case let (.dict(d), .string(k)):
            if let v = d[k] { return v }
        case let (.list(a), _), let (.tuple(a), _):
            if let i = integerIndex(key) {
                let j = i < 0 ? i + a.count : i
                if j >= 0 && j < a.count { return a[j] }
                return .undefined(hint: "'\(value.typeName) object' has no element \(i)")
            }
        case let (.string(s), _):
            if let i = integerIndex(key) {
                let scalars = Array(s.unicodeScalars)
                let j = i < 0 ? i + scalars.count : i
                if j >= 0 && j < scalars.count { return .string(String(scalars[j])) }
                return .undefined(hint: "'str object' has no element \(i)")
            }
        default:
            break
        }
        if case let .string(name) = key { return try attribute(value, name) }
        return .undefined(hint: "'\(value.typeName) object' has no element \(key.pythonRepr)")
    }

    private static func integerIndex(_ key: JinjaValue) -> Int? {
        switch key {
        case let .int(i): return i
        case let .bool(b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python slicing `value[start:stop:step]` on strings, lists and tuples.
    static func slice(_ value: JinjaValue, start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?) throws
        -> JinjaValue
    {
        func bound(_ v: JinjaValue?) throws -> Int? {
            guard let v, !(v == .none) else { return nil }
            guard let i = integerIndex(v) else {
                throw JinjaRuntimeError.message("slice indices must be integers or None")
            }
            return i
        }
        let stepValue = try bound(step) ?? 1
        guard stepValue != 0 else { throw JinjaRuntimeError.message("slice step cannot be zero") }
        func indices(count: Int) throws -> [Int] {
            // CPython's PySlice_AdjustIndices.
            var lo: Int
            var hi: Int
            if stepValue > 0 {
                lo = try bound(start).map { $0 < 0 ? max($0 + count, 0) : min($0, count) } ?? 0
                hi = try bound(stop).map { $0 < 0 ? max($0 + count, 0) : min($0, count) } ?? count
                return lo < hi ? Array(stride(from: lo, to: hi, by: stepValue)) : []
            }
            lo = try bound(start).map { $0 < 0 ? max($0 + count, -1) : min($0, count - 1) } ?? count - 1
            hi = try bound(stop).map { $0 < 0 ? max($0 + count, -1) : min($0, count - 1) } ?? -1
            return lo > hi ? Array(stride(from: lo, to: hi, by: stepValue)) : []
        }
        switch value {
        case let .list(a): return .list(try indices(count: a.count).map { a[$0] })
        case let .tuple(a): return .tuple(try indices(count: a.count).map { a[$0] })
        case let .string(s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(count: scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case let .undefined(hint):
            throw JinjaRuntimeError.message(hint)
        default:
            throw JinjaRuntimeError.message("'\(value.typeName)' object is not subscriptable")
        }
    }
}
