/// Jinja's `is` tests (`x is defined`, `y is equalto 'a'`, `n is divisibleby 3`, …).
enum JinjaTests {
    /// Every test name accepted; others are rejected at parse time ("No test named …").
    static let names: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped", "even", "false", "float",
        "ge", ">=", "gt", "greaterthan", ">", "in", "integer", "iterable", "le", "<=", "lower", "lt", "lessthan", "<",
        "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "true", "undefined", "upper",
    ]

    static func apply(_ name: String, _ value: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        func operand() throws -> JinjaValue {
            guard let first = args.first else { throw JinjaRuntimeError.message("test '\(name)' needs an argument") }
            return first
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": return value.numericValue != nil
        case "string": if case .string = value { return true } else { return false }
        case "mapping": if case .dict = value { return true } else { return false }
        case "iterable", "sequence":
            switch value {
            case .string, .list, .tuple, .dict, .undefined: return true
            default: return false
            }
        case "callable":
            switch value {
            case .function, .macro: return true
            default: return false
            }
        case "escaped": return false
        case "lower":
            let s = value.pythonString
            return JinjaStrings.classify(s, "islower")
        case "upper":
            let s = value.pythonString
            return JinjaStrings.classify(s, "isupper")
        case "odd", "even":
            guard case let .int(i)? = value.numericValue else {
                throw JinjaRuntimeError.message("test '\(name)' needs an integer, not \(value.typeName)")
            }
            return (i % 2 != 0) == (name == "odd")
        case "divisibleby":
            guard case let .int(i)? = value.numericValue, case let .int(n)? = try operand().numericValue else {
                throw JinjaRuntimeError.message("divisibleby needs integers")
            }
            guard n != 0 else { throw JinjaRuntimeError.message("integer division or modulo by zero") }
            return i % n == 0
        case "eq", "equalto", "==": return value == (try operand())
        case "ne", "!=": return !(value == (try operand()))
        case "lt", "lessthan", "<": return try JinjaOperators.compare(.less, value, try operand())
        case "le", "<=": return try JinjaOperators.compare(.lessEqual, value, try operand())
        case "gt", "greaterthan", ">": return try JinjaOperators.compare(.greater, value, try operand())
        case "ge", ">=": return try JinjaOperators.compare(.greaterEqual, value, try operand())
        case "in": return try JinjaOperators.contains(try operand(), value)
        case "sameas":
            let other = try operand()
            switch (value, other) {
            case (.none, .none): return true
            case let (.bool(a), .bool(b)): return a == b
            case let (.namespace(a), .namespace(b)): return a === b
            default: return false
            }
        default:
            throw JinjaRuntimeError.message("No test named '\(name)'.")
        }
    }
}
