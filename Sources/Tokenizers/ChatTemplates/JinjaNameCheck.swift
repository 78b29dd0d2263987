/// jinja2's compile-time check of filter and test names: an unknown name is a syntax error,
/// except inside `if` blocks and conditional expressions ("soft" frames), where jinja2 defers it
/// to run time (templates guard optional filters that way). Loop, macro, call, filter, with and
/// set-block bodies start strict frames again, as in jinja2's code generator.
struct JinjaNameCheck {
    let templateName: String

    func check(_ nodes: [JinjaNode], soft: Bool) throws {
        for node in nodes {
            switch node.kind {
            case .text, .breakLoop, .continueLoop:
                break
            case let .output(expr):
                try check(expr, soft: soft)
            case let .ifBlock(branches, otherwise):
                for (condition, body) in branches {
                    try check(condition, soft: true)
                    try check(body, soft: true)
                }
                try check(otherwise, soft: true)
            case let .forLoop(_, iterable, condition, body, otherwise):
                try check(iterable, soft: soft)
                if let condition { try check(condition, soft: false) }
                try check(body, soft: false)
                try check(otherwise, soft: false)
            case let .set(_, expr):
                try check(expr, soft: soft)
            case let .setBlock(_, filters, body):
                try check(filters, soft: false)
                try check(body, soft: false)
            case let .generation(body):
                try check(body, soft: false)
            case let .macro(definition):
                for case let (_, value?) in definition.parameters { try check(value, soft: false) }
                try check(definition.body, soft: false)
            case let .callBlock(call, parameters, body):
                try check(call, soft: soft)
                for case let (_, value?) in parameters { try check(value, soft: false) }
                try check(body, soft: false)
            case let .filterBlock(filters, body):
                try check(filters, soft: false)
                try check(body, soft: false)
            case let .with(assignments, body):
                for (_, value) in assignments { try check(value, soft: false) }
                try check(body, soft: false)
            }
        }
    }

    private func check(_ filters: [JinjaFilterCall], soft: Bool) throws {
        for f in filters {
            if !soft && !JinjaFilters.names.contains(f.name) { throw unknown("filter", f.name, f.line) }
            try check(f.arguments, soft: soft)
        }
    }

    private func check(_ arguments: JinjaArguments, soft: Bool) throws {
        for a in arguments.positional { try check(a, soft: soft) }
        for (_, a) in arguments.keyword { try check(a, soft: soft) }
    }

    private func unknown(_ kind: String, _ name: String, _ line: Int) -> ChatTemplateError {
        .syntax(template: templateName, line: line, message: "No \(kind) named '\(name)'.")
    }

    private func check(_ expr: JinjaExpr, soft: Bool) throws {
        switch expr {
        case .literal, .name:
            break
        case let .list(items), let .tuple(items):
            for i in items { try check(i, soft: soft) }
        case let .dict(pairs):
            for (k, v) in pairs {
                try check(k, soft: soft)
                try check(v, soft: soft)
            }
        case let .attribute(target, _):
            try check(target, soft: soft)
        case let .item(target, key):
            try check(target, soft: soft)
            try check(key, soft: soft)
        case let .slice(target, start, stop, step):
            try check(target, soft: soft)
            for part in [start, stop, step] { if let part { try check(part, soft: soft) } }
        case let .call(callee, arguments):
            try check(callee, soft: soft)
            try check(arguments, soft: soft)
        case let .filter(target, name, arguments, line):
            if !soft && !JinjaFilters.names.contains(name) { throw unknown("filter", name, line) }
            try check(target, soft: soft)
            try check(arguments, soft: soft)
        case let .test(target, name, arguments, line):
            if !soft && !JinjaTests.names.contains(name) { throw unknown("test", name, line) }
            try check(target, soft: soft)
            try check(arguments, soft: soft)
        case let .not(e), let .negate(e), let .plus(e):
            try check(e, soft: soft)
        case let .binary(_, l, r), let .and(l, r), let .or(l, r):
            try check(l, soft: soft)
            try check(r, soft: soft)
        case let .compare(first, links):
            try check(first, soft: soft)
            for (_, e) in links { try check(e, soft: soft) }
        case let .conditional(condition, then, otherwise):
            try check(condition, soft: true)
            try check(then, soft: true)
            if let otherwise { try check(otherwise, soft: true) }
        }
    }
}
