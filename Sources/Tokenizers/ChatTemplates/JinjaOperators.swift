#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Python's arithmetic, concatenation, ordering and membership on ``JinjaValue``s.
enum JinjaOperators {
    /// Longest string a template may build by repetition; guards memory against hostile input.
    static let maxRepeatedLength = 50_000_000

    static func operandError(_ op: String, _ a: JinjaValue, _ b: JinjaValue? = nil) -> JinjaRuntimeError {
        if case let .undefined(hint) = a { return .message(hint) }
        if case let .undefined(hint)? = b { return .message(hint) }
        if let b {
            if op == "+", case .string = a {
                return .message("can only concatenate str (not \"\(b.typeName)\") to str")
            }
            if op == "+", case .list = a {
                return .message("can only concatenate list (not \"\(b.typeName)\") to list")
            }
            return .message("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
        }
        return .message("bad operand type for \(op): '\(a.typeName)'")
    }

    static func binary(_ op: JinjaBinaryOperator, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        switch op {
        case .concat:
            return .string(a.pythonString + b.pythonString)
        case .add:
            switch (a, b) {
            case let (.string(x), .string(y)): return .string(x + y)
            case let (.list(x), .list(y)): return .list(x + y)
            case let (.tuple(x), .tuple(y)): return .tuple(x + y)
            default:
                return try arithmetic(op, a, b, ints: { x, y in x.addingReportingOverflow(y) }, doubles: { $0 + $1 })
            }
        case .subtract:
            return try arithmetic(op, a, b, ints: { x, y in x.subtractingReportingOverflow(y) }, doubles: { $0 - $1 })
        case .multiply:
            switch (a, b) {
            case let (.string(s), n) where n.numericValue != nil, let (n, .string(s)) where n.numericValue != nil:
                guard case let .int(count)? = n.numericValue else { throw operandError("*", a, b) }
                guard count > 0 else { return .string("") }
                guard s.utf8.count.multipliedReportingOverflow(by: count).partialValue <= maxRepeatedLength,
                    !s.utf8.count.multipliedReportingOverflow(by: count).overflow
                else { throw JinjaRuntimeError.message("repeated string is too long") }
                return .string(String(repeating: s, count: count))
            case let (.list(l), n) where n.numericValue != nil, let (n, .list(l)) where n.numericValue != nil:
                guard case let .int(count)? = n.numericValue else { throw operandError("*", a, b) }
                guard count > 0 else { return .list([]) }
                guard l.count.multipliedReportingOverflow(by: count).partialValue <= maxRepeatedLength,
                    !l.count.multipliedReportingOverflow(by: count).overflow
                else { throw JinjaRuntimeError.message("repeated list is too long") }
                return .list(Array([[JinjaValue]](repeating: l, count: count).joined()))
            default:
                return try arithmetic(op, a, b, ints: { x, y in x.multipliedReportingOverflow(by: y) }, doubles: { $0 * $1 })
            }
        case .divide:
            guard let x = a.numericValue, let y = b.numericValue else { throw operandError("/", a, b) }
            guard y.asDouble != 0 else { throw JinjaRuntimeError.message("division by zero") }
            return .double(x.asDouble / y.asDouble)
        case .floorDivide:
            guard let x = a.numericValue, let y = b.numericValue else { throw operandError("//", a, b) }
            if case let .int(p) = x, case let .int(q) = y {
                guard q != 0 else { throw JinjaRuntimeError.message("integer division or modulo by zero") }
                guard !(p == Int.min && q == -1) else { throw JinjaRuntimeError.message("integer overflow") }
                let (quotient, remainder) = p.quotientAndRemainder(dividingBy: q)
                return .int((remainder != 0 && (remainder < 0) != (q < 0)) ? quotient - 1 : quotient)
            }
            guard y.asDouble != 0 else { throw JinjaRuntimeError.message("float floor division by zero") }
            return .double((x.asDouble / y.asDouble).rounded(.down))
        case .modulo:
            guard let x = a.numericValue, let y = b.numericValue else {
                if case .string = a { throw JinjaRuntimeError.message("printf-style string formatting is not supported") }
                throw operandError("%", a, b)
            }
            if case let .int(p) = x, case let .int(q) = y {
                guard q != 0 else { throw JinjaRuntimeError.message("integer division or modulo by zero") }
                if q == -1 { return .int(0) }
                let r = p % q
                return .int((r != 0 && (r < 0) != (q < 0)) ? r + q : r)
            }
            guard y.asDouble != 0 else { throw JinjaRuntimeError.message("float modulo") }
            let r = fmod(x.asDouble, y.asDouble)
            return .double((r != 0 && (r < 0) != (y.asDouble < 0)) ? r + y.asDouble : r)
        case .power:
            guard let x = a.numericValue, let y = b.numericValue else { throw operandError("**", a, b) }
            if case let .int(base) = x, case let .int(exponent) = y, exponent >= 0 {
                var result = 1
                var factor = base
                var e = exponent
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: factor)
                        guard !o else { throw JinjaRuntimeError.message("integer overflow in **") }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (f, o) = factor.multipliedReportingOverflow(by: factor)
                        guard !o else { throw JinjaRuntimeError.message("integer overflow in **") }
                        factor = f
                    }
                }
                return .int(result)
            }
            return .double(pow(x.asDouble, y.asDouble))
        }
    }

    private static func arithmetic(
        _ op: JinjaBinaryOperator, _ a: JinjaValue, _ b: JinjaValue,
        ints: (Int, Int) -> (partialValue: Int, overflow: Bool), doubles: (Double, Double) -> Double
    ) throws -> JinjaValue {
        guard let x = a.numericValue, let y = b.numericValue else { throw operandError(op.rawValue, a, b) }
        if case let .int(p) = x, case let .int(q) = y {
            let (r, overflow) = ints(p, q)
            guard !overflow else { throw JinjaRuntimeError.message("integer overflow in \(op.rawValue)") }
            return .int(r)
        }
        return .double(doubles(x.asDouble, y.asDouble))
    }

    static func compare(_ op: JinjaCompareOperator, _ a: JinjaValue, _ b: JinjaValue) throws -> Bool {
        switch op {
        case .equal: return a == b
        case .notEqual: return !(a == b)
        case .contains: return try contains(b, a)
        case .notContains: return !(try contains(b, a))
        case .less: return try order(a, b, op) < 0
        case .lessEqual: return try order(a, b, op) <= 0
        case .greater: return try order(a, b, op) > 0
        case .greaterEqual: return try order(a, b, op) >= 0
        }
    }

    /// Python ordering (-1, 0, 1) for numbers, strings (by code point) and sequences.
    static func order(_ a: JinjaValue, _ b: JinjaValue, _ op: JinjaCompareOperator = .less) throws -> Int {
        if let x = a.numericValue, let y = b.numericValue {
            if case let .int(p) = x, case let .int(q) = y { return p < q ? -1 : (p == q ? 0 : 1) }
            let (p, q) = (x.asDouble, y.asDouble)
            return p < q ? -1 : (p == q ? 0 : 1)
        }
        switch (a, b) {
        case let (.string(x), .string(y)):
            if x == y { return 0 }
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) { $0.value < $1.value } ? -1 : 1
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)):
            for (p, q) in zip(x, y) where !(p == q) { return try order(p, q, op) }
            return x.count < y.count ? -1 : (x.count == y.count ? 0 : 1)
        default:
            if case let .undefined(hint) = a { throw JinjaRuntimeError.message(hint) }
            if case let .undefined(hint) = b { throw JinjaRuntimeError.message(hint) }
            throw JinjaRuntimeError.message(
                "'\(op.rawValue)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    /// Python `needle in container`.
    static func contains(_ container: JinjaValue, _ needle: JinjaValue) throws -> Bool {
        switch container {
        case let .string(s):
            guard case let .string(n) = needle else {
                throw JinjaRuntimeError.message("'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return JinjaStrings.find(Array(s.unicodeScalars), Array(n.unicodeScalars), from: 0) != nil
        case let .list(a), let .tuple(a):
            return a.contains(needle)
        case let .dict(d):
            if case let .string(k) = needle { return d[k] != nil }
            return false
        case let .namespace(ns):
            if case let .string(k) = needle { return ns.attributes[k] != nil }
            return false
        case .undefined:
            return false
        default:
            throw JinjaRuntimeError.message("argument of type '\(container.typeName)' is not iterable")
        }
    }
}
