/// Python methods callable from templates (`content.strip()`, `message.get('x')`, …).
/// Mutating methods are refused, as HF's ImmutableSandboxedEnvironment does.
enum JinjaMethods {
    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper", "lower",
        "title", "capitalize", "replace", "find", "rfind", "index", "count", "join", "isdigit", "isalpha",
        "isalnum", "isspace", "islower", "isupper", "removeprefix", "removesuffix", "format",
    ]
    static let dictMethods: Set<String> = ["items", "keys", "values", "get"]
    static let listMethods: Set<String> = ["index", "count"]
    /// Methods that exist in Python but would mutate; the sandbox raises SecurityError for them.
    static let unsafeMethods: Set<String> = [
        "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault",
        "popitem", "add", "discard",
    ]

    /// A bound method value: `obj.name` evaluated without calling it.
    static func bound(_ value: JinjaValue, _ name: String) -> JinjaValue {
        .function(JinjaFunction(name: name) { args, kwargs in try call(value, name, args, kwargs) })
    }

    private static func argument(_ args: [JinjaValue], _ kwargs: [(String, JinjaValue)], _ i: Int, _ name: String)
        -> JinjaValue?
    {
        if i < args.count { return args[i] }
        return kwargs.first { $0.0 == name }?.1
    }

    private static func stringArgument(_ v: JinjaValue?, _ method: String) throws -> String? {
        switch v {
        case nil, .none?: return nil
        case let .string(s)?: return s
        case let other?: throw JinjaRuntimeError.message("\(method)() argument must be str or None, not \(other.typeName)")
        }
    }

    private static func intArgument(_ v: JinjaValue?, _ method: String, default d: Int) throws -> Int {
        switch v?.numericValue {
        case nil: return d
        case let .int(i)?: return i
        case .double?: throw JinjaRuntimeError.message("\(method)() argument must be an integer")
        }
    }

    static func call(_ value: JinjaValue, _ name: String, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws
        -> JinjaValue
    {
        if unsafeMethods.contains(name) {
            throw JinjaRuntimeError.message("access to attribute '\(name)' of '\(value.typeName)' object is unsafe.")
        }
        switch value {
        case let .string(s): return try callString(s, name, args, kwargs)
        case let .dict(d):
            switch name {
            case "items": return .list(d.pairs.map { .tuple([.string($0.key), $0.value]) })
            case "keys": return .list(d.keys.map { .string($0) })
            case "values": return .list(d.values)
            case "get":
                guard let key = argument(args, kwargs, 0, "key") else {
                    throw JinjaRuntimeError.message("get expected at least 1 argument, got 0")
                }
                let fallback = argument(args, kwargs, 1, "default") ?? .none
                if case let .string(k) = key { return d[k] ?? fallback }
                return fallback
            default: break
            }
        case let .list(a), let .tuple(a):
            guard let needle = argument(args, kwargs, 0, "value") else {
                throw JinjaRuntimeError.message("\(name)() takes exactly one argument (0 given)")
            }
            if name == "count" { return .int(a.filter { $0 == needle }.count) }
            if name == "index", let i = a.firstIndex(of: needle) { return .int(i) }
            throw JinjaRuntimeError.message("\(needle.pythonRepr) is not in list")
        default: break
        }
        throw JinjaRuntimeError.message("'\(value.typeName)' object has no attribute '\(name)'")
    }

    private static func callString(_ s: String, _ name: String, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)])
        throws -> JinjaValue
    {
        func arg(_ i: Int, _ n: String) -> JinjaValue? { argument(args, kwargs, i, n) }
        switch name {
        case "strip", "lstrip", "rstrip":
            let chars = try stringArgument(arg(0, "chars"), name)
            return .string(JinjaStrings.strip(s, chars: chars, leading: name != "rstrip", trailing: name != "lstrip"))
        case "split", "rsplit":
            let sep = try stringArgument(arg(0, "sep"), name)
            let maxsplit = try intArgument(arg(1, "maxsplit"), name, default: -1)
            return .list(try JinjaStrings.split(s, separator: sep, maxSplit: maxsplit, fromRight: name == "rsplit")
                .map { .string($0) })
        case "splitlines":
            return .list(JinjaStrings.splitLines(s).map { .string($0) })
        case "startswith", "endswith":
            guard let p = arg(0, "prefix") else { throw JinjaRuntimeError.message("\(name)() takes at least 1 argument") }
            let candidates: [JinjaValue] = p.sequenceElements ?? [p]
            for candidate in candidates {
                guard case let .string(c) = candidate else {
                    throw JinjaRuntimeError.message("\(name) first arg must be str or a tuple of str, not \(candidate.typeName)")
                }
                let hit = name == "startswith"
                    ? s.unicodeScalars.starts(with: c.unicodeScalars)
                    : s.unicodeScalars.reversed().starts(with: c.unicodeScalars.reversed())
                if hit { return .bool(true) }
            }
            return .bool(false)
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title": return .string(JinjaStrings.pythonTitle(s))
        case "capitalize": return .string(JinjaStrings.capitalize(s))
        case "replace":
            guard case let .string(old)? = arg(0, "old"), case let .string(new)? = arg(1, "new") else {
                throw JinjaRuntimeError.message("replace() arguments must be str")
            }
            let count = try intArgument(arg(2, "count"), name, default: -1)
            return .string(JinjaStrings.replace(s, old, new, count: count))
        case "find", "rfind", "index", "count":
            guard case let .string(sub)? = arg(0, "sub") else {
                throw JinjaRuntimeError.message("\(name)() argument must be str")
            }
            let hay = Array(s.unicodeScalars)
            let needle = Array(sub.unicodeScalars)
            if name == "count" { return .int(JinjaStrings.count(hay, needle)) }
            let found = name == "rfind" ? JinjaStrings.findLast(hay, needle) : JinjaStrings.find(hay, needle, from: 0)
            if name == "index" && found == nil { throw JinjaRuntimeError.message("substring not found") }
            return .int(found ?? -1)
        case "join":
            guard let items = arg(0, "iterable") else { throw JinjaRuntimeError.message("join() takes exactly one argument") }
            let parts: [JinjaValue]
            switch items {
            case let .list(a), let .tuple(a): parts = a
            case let .string(t): parts = t.unicodeScalars.map { .string(String($0)) }
            case let .dict(d): parts = d.keys.map { .string($0) }
            default: throw JinjaRuntimeError.message("can only join an iterable")
            }
            var out: [String] = []
            for (i, p) in parts.enumerated() {
                guard case let .string(t) = p else {
                    throw JinjaRuntimeError.message("sequence item \(i): expected str instance, \(p.typeName) found")
                }
                out.append(t)
            }
            return .string(out.joined(separator: s))
        case "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper":
            return .bool(JinjaStrings.classify(s, name))
        case "removeprefix", "removesuffix":
            guard case let .string(affix)? = arg(0, name == "removeprefix" ? "prefix" : "suffix") else {
                throw JinjaRuntimeError.message("\(name)() argument must be str")
            }
            let scalars = Array(s.unicodeScalars)
            let a = Array(affix.unicodeScalars)
            var out = String.UnicodeScalarView()
            if name == "removeprefix", scalars.starts(with: a) {
                out.append(contentsOf: scalars[a.count...])
                return .string(String(out))
            }
            if name == "removesuffix", !a.isEmpty, scalars.reversed().starts(with: a.reversed()) {
                out.append(contentsOf: scalars[..<(scalars.count - a.count)])
                return .string(String(out))
            }
            return .string(s)
        case "format":
            return .string(try JinjaStrings.format(s, args, kwargs))
        default:
            throw JinjaRuntimeError.message("'str' object has no attribute '\(name)'")
        }
    }
}
