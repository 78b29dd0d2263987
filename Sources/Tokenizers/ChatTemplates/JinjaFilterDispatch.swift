/// Applying filters and tests by name (they may call each other: `select('equalto', …)`,
/// `map('upper')`), so they live on the renderer.
extension JinjaRenderer {
    func applyFilter(_ name: String, to value: JinjaValue, _ arguments: JinjaArguments, _ scope: JinjaScope) throws
        -> JinjaValue
    {
        // Unknown names only get here from conditional code, where jinja2 defers the check.
        guard JinjaFilters.names.contains(name) else { throw JinjaRuntimeError.message("No filter named '\(name)' found.") }
        let (positional, keyword) = try evaluateArguments(arguments, scope)
        return try filter(name, value, JinjaFilters.Arguments(positional: positional, keyword: keyword))
    }

    func filter(_ name: String, _ value: JinjaValue, _ args: JinjaFilters.Arguments) throws -> JinjaValue {
        switch name {
        case "tojson":
            return try JinjaFilters.tojson(value, args)
        case "length", "count":
            return .int(try JinjaFilters.length(value))
        case "trim":
            guard case let .string(chars)? = args.value(0, "chars") else {
                return .string(JinjaStrings.strip(value.pythonString, chars: nil, leading: true, trailing: true))
            }
            return .string(JinjaStrings.strip(value.pythonString, chars: chars, leading: true, trailing: true))
        case "upper": return .string(value.pythonString.uppercased())
        case "lower": return .string(value.pythonString.lowercased())
        case "capitalize": return .string(JinjaStrings.capitalize(value.pythonString))
        case "title": return .string(JinjaStrings.jinjaTitle(value.pythonString))
        case "string": return .string(value.pythonString)
        case "safe": return value
        case "e", "escape", "forceescape": return .string(JinjaFilters.htmlEscape(value.pythonString))
        case "default", "d":
            let fallback = args.value(0, "default_value") ?? .string("")
            if value.isUndefined || (args.bool(1, "boolean", default: false) && !value.isTruthy) { return fallback }
            return value
        case "first":
            if case let .dict(d) = value { return d.keys.first.map { .string($0) } ?? noItem("first") }
            return try iterate(value).first ?? noItem("first")
        case "last":
            if case let .dict(d) = value { return d.keys.last.map { .string($0) } ?? noItem("last") }
            return try iterate(value).last ?? noItem("last")
        case "list": return .list(try iterate(value))
        case "items":
            switch value {
            case let .dict(d): return .list(d.pairs.map { .tuple([.string($0.key), $0.value]) })
            case .undefined: return .list([])
            default: throw JinjaRuntimeError.message("Can only get item pairs from a mapping.")
            }
        case "join":
            var items = try iterate(value)
            if let attribute = args.value(1, "attribute"), !(attribute == .none) {
                let get = try JinjaFilters.attributeGetter(attribute)
                items = try items.map(get)
            }
            let separator = args.value(0, "d")?.pythonString ?? ""
            return .string(items.map(\.pythonString).joined(separator: separator))
        case "replace":
            guard let old = args.value(0, "old"), let new = args.value(1, "new") else {
                throw JinjaRuntimeError.message("replace filter needs old and new strings")
            }
            var count = -1
            if let c = args.value(2, "count"), case let .int(n)? = c.numericValue { count = n }
            return .string(JinjaStrings.replace(value.pythonString, old.pythonString, new.pythonString, count: count))
        case "reverse":
            if case let .string(s) = value { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try iterate(value).reversed())
        case "sort":
            let caseSensitive = args.bool(1, "case_sensitive", default: false)
            let get = try args.value(2, "attribute").flatMap { $0 == .none ? nil : try JinjaFilters.attributeGetter($0) }
            return .list(try JinjaFilters.sorted(try iterate(value), key: {
                JinjaFilters.sortKey(try get?($0) ?? $0, caseSensitive: caseSensitive)
            }, reverse: args.bool(0, "reverse", default: false)))
        case "dictsort":
            guard case let .dict(d) = value else { throw JinjaRuntimeError.message("dictsort needs a mapping") }
            let caseSensitive = args.bool(0, "case_sensitive", default: false)
            var byValue = false
            if case let .string(by)? = args.value(1, "by") {
                guard by == "key" || by == "value" else {
                    throw JinjaRuntimeError.message("You can only sort by either 'key' or 'value'")
                }
                byValue = by == "value"
            }
            let pairs: [JinjaValue] = d.pairs.map { .tuple([.string($0.key), $0.value]) }
            return .list(try JinjaFilters.sorted(pairs, key: { pair in
                JinjaFilters.sortKey(pair.sequenceElements?[byValue ? 1 : 0] ?? .none, caseSensitive: caseSensitive)
            }, reverse: args.bool(2, "reverse", default: false)))
        case "unique":
            let caseSensitive = args.bool(0, "case_sensitive", default: false)
            let get = try args.value(1, "attribute").flatMap { $0 == .none ? nil : try JinjaFilters.attributeGetter($0) }
            var seen: [JinjaValue] = []
            var out: [JinjaValue] = []
            for item in try iterate(value) {
                let key = JinjaFilters.sortKey(try get?(item) ?? item, caseSensitive: caseSensitive)
                if !seen.contains(key) {
                    seen.append(key)
                    out.append(item)
                }
            }
            return .list(out)
        case "min", "max":
            let caseSensitive = args.bool(0, "case_sensitive", default: false)
            let get = try args.value(1, "attribute").flatMap { $0 == .none ? nil : try JinjaFilters.attributeGetter($0) }
            let sorted = try JinjaFilters.sorted(try iterate(value), key: {
                JinjaFilters.sortKey(try get?($0) ?? $0, caseSensitive: caseSensitive)
            }, reverse: false)
            guard let pick = name == "min" ? sorted.first : sorted.last else {
                return .undefined(hint: "No aggregated item, sequence was empty.")
            }
            if name == "max" {
                // Python's max returns the first of equal maxima.
                let key = JinjaFilters.sortKey(try get?(pick) ?? pick, caseSensitive: caseSensitive)
                for item in sorted where try JinjaOperators.order(JinjaFilters.sortKey(try get?(item) ?? item,
                                                                                       caseSensitive: caseSensitive), key) == 0 {
                    return item
                }
            }
            return pick
        case "sum":
            let get = try args.value(0, "attribute").flatMap { $0 == .none ? nil : try JinjaFilters.attributeGetter($0) }
            var total = args.value(1, "start") ?? .int(0)
            for item in try iterate(value) { total = try JinjaOperators.binary(.add, total, try get?(item) ?? item) }
            return total
        case "map":
            // jinja2's map/select/reject filters skip falsy inputs (`if value:`), so none maps to [].
            guard value.isTruthy else { return .list([]) }
            let items = try iterate(value)
            if let attribute = args.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let get = try JinjaFilters.attributeGetter(attribute)
                let fallback = args.keyword.first { $0.0 == "default" }?.1
                return .list(try items.map { item in
                    let v = try get(item)
                    if v.isUndefined, let fallback { return fallback }
                    return v
                })
            }
            guard case let .string(filterName)? = args.positional.first else {
                throw JinjaRuntimeError.message("map requires a filter name or attribute=")
            }
            guard JinjaFilters.names.contains(filterName) else {
                throw JinjaRuntimeError.message("No filter named '\(filterName)'.")
            }
            let rest = JinjaFilters.Arguments(positional: Array(args.positional.dropFirst()), keyword: args.keyword)
            return .list(try items.map { try filter(filterName, $0, rest) })
        case "select", "reject":
            guard value.isTruthy else { return .list([]) }
            let keep = name == "select"
            var out: [JinjaValue] = []
            for item in try iterate(value) where try passes(item, args.positional, 0) == keep { out.append(item) }
            return .list(out)
        case "selectattr", "rejectattr":
            guard let attribute = args.positional.first else {
                throw JinjaRuntimeError.message("\(name) needs an attribute name")
            }
            guard value.isTruthy else { return .list([]) }
            let get = try JinjaFilters.attributeGetter(attribute)
            let keep = name == "selectattr"
            var out: [JinjaValue] = []
            for item in try iterate(value) where try passes(try get(item), args.positional, 1) == keep {
                out.append(item)
            }
            return .list(out)
        case "attr":
            guard case let .string(attribute)? = args.value(0, "name") else {
                throw JinjaRuntimeError.message("attr needs an attribute name")
            }
            return try JinjaLookup.attribute(value, attribute)
        case "abs":
            switch value.numericValue {
            case let .int(i)?:
                guard i != Int.min else { throw JinjaRuntimeError.message("integer overflow") }
                return .int(abs(i))
            case let .double(d)?: return .double(Swift.abs(d))
            case nil: throw JinjaRuntimeError.message("bad operand type for abs(): '\(value.typeName)'")
            }
        case "int": return JinjaFilters.toInt(value, args)
        case "float": return JinjaFilters.toFloat(value, args)
        case "round": return try JinjaFilters.round(value, args)
        case "indent": return try JinjaFilters.indent(value, args)
        case "wordcount":
            var count = 0
            var inWord = false
            for u in value.pythonString.unicodeScalars {
                let isWord = u == "_" || u.properties.isAlphabetic || u.properties.numericType != nil
                if isWord && !inWord { count += 1 }
                inWord = isWord
            }
            return .int(count)
        default:
            throw JinjaRuntimeError.message("No filter named '\(name)'.")
        }
    }

    private func noItem(_ which: String) -> JinjaValue {
        .undefined(hint: "No \(which) item, sequence was empty.")
    }

    /// For select/reject: applies the test named at `args[testIndex]` (truthiness when absent).
    private func passes(_ value: JinjaValue, _ args: [JinjaValue], _ testIndex: Int) throws -> Bool {
        guard testIndex < args.count else { return value.isTruthy }
        guard case let .string(test) = args[testIndex] else {
            throw JinjaRuntimeError.message("test name must be a string")
        }
        guard JinjaTests.names.contains(test) else { throw JinjaRuntimeError.message("No test named '\(test)'.") }
        return try applyTest(test, value, Array(args.dropFirst(testIndex + 1)))
    }

    func applyTest(_ name: String, _ value: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        try JinjaTests.apply(name, value, args)
    }
}
