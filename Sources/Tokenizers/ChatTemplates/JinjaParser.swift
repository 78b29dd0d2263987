/// Builds the AST from lexer tokens, following jinja2's grammar and operator precedence
/// (conditional < or < and < not < comparisons < + - < ~ < * / // % < ** < unary < filters/tests
/// < postfix). Unknown tags and unclosed blocks are errors naming the line.
struct JinjaParser {
    private let tokens: [JinjaToken]
    private let templateName: String
    private var index = 0
    /// Current nesting of expressions and blocks; bounded so hostile input cannot exhaust the stack.
    private var depth = 0
    static let maxDepth = 64

    init(tokens: [JinjaToken], templateName: String) {
        self.tokens = tokens
        self.templateName = templateName
    }

    /// Parses the whole template.
    mutating func parseTemplate() throws -> [JinjaNode] {
        let (body, _) = try parseBody(endTags: [], opener: nil)
        try JinjaNameCheck(templateName: templateName).check(body, soft: false)
        return body
    }

    // MARK: token helpers

    private var current: JinjaToken { tokens[min(index, tokens.count - 1)] }
    private func peek(_ offset: Int = 1) -> JinjaToken { tokens[min(index + offset, tokens.count - 1)] }
    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private func error(_ message: String, line: Int? = nil) -> ChatTemplateError {
        .syntax(template: templateName, line: line ?? current.line, message: message)
    }

    private func describe(_ token: JinjaToken) -> String {
        switch token.kind {
        case .data: return "template data"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case let .name(n): return n
        case let .string(s): return PythonFormat.stringRepr(s)
        case let .integer(i): return String(i)
        case let .float(d): return PythonFormat.floatRepr(d)
        case let .op(o): return o
        case .eof: return "end of template"
        }
    }

    private func isOp(_ op: String) -> Bool {
        if case let .op(o) = current.kind { return o == op }
        return false
    }

    private func isName(_ name: String, _ token: JinjaToken? = nil) -> Bool {
        if case let .name(n) = (token ?? current).kind { return n == name }
        return false
    }

    private mutating func skipOp(_ op: String) -> Bool {
        if isOp(op) {
            advance()
            return true
        }
        return false
    }

    private mutating func skipName(_ name: String) -> Bool {
        if isName(name) {
            advance()
            return true
        }
        return false
    }

    private mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw error("expected '\(op)', got '\(describe(current))'") }
    }

    private mutating func expectName() throws -> String {
        guard case let .name(n) = current.kind else { throw error("expected a name, got '\(describe(current))'") }
        advance()
        return n
    }

    private mutating func expectBlockEnd() throws {
        guard current.kind == .blockEnd else {
            throw error("expected end of statement block, got '\(describe(current))'")
        }
        advance()
    }

    // MARK: statements

    /// Parses nodes until a block tag named in `endTags`; returns the body and that tag name
    /// (the tag's name token is consumed, its block end is not).
    private mutating func parseBody(endTags: Set<String>, opener: (String, Int)?) throws -> ([JinjaNode], String?) {
        var body: [JinjaNode] = []
        while true {
            let token = current
            switch token.kind {
            case let .data(text):
                body.append(JinjaNode(kind: .text(text), line: token.line))
                advance()
            case .variableBegin:
                advance()
                let expr = try parseTuple()
                guard current.kind == .variableEnd else {
                    throw error("expected end of print statement, got '\(describe(current))'")
                }
                advance()
                body.append(JinjaNode(kind: .output(expr), line: token.line))
            case .blockBegin:
                advance()
                if case let .name(tag) = current.kind, endTags.contains(tag) {
                    advance()
                    return (body, tag)
                }
                body.append(try parseStatement())
                try expectBlockEnd()
            case .eof:
                if let (tag, line) = opener {
                    let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw error("unexpected end of template: the '\(tag)' block opened on line \(line) is "
                        + "never closed (expected \(expected))", line: line)
                }
                return (body, nil)
            default:
                throw error("unexpected '\(describe(token))'")
            }
        }
    }

    /// Body of a block statement: the rest of the opening tag, then nodes up to an end tag.
    private mutating func parseBlockBody(_ endTags: Set<String>, opener: (String, Int)) throws -> ([JinjaNode], String?) {
        _ = skipOp(":")
        try expectBlockEnd()
        return try parseBody(endTags: endTags, opener: opener)
    }

    private mutating func parseStatement() throws -> JinjaNode {
        try nest()
        defer { depth -= 1 }
        let line = current.line
        guard case let .name(tag) = current.kind else {
            throw error("tag name expected, got '\(describe(current))'")
        }
        advance()
        switch tag {
        case "if": return try parseIf(line: line)
        case "for": return try parseFor(line: line)
        case "set": return try parseSet(line: line)
        case "generation":
            let (body, _) = try parseBlockBody(["endgeneration"], opener: (tag, line))
            return JinjaNode(kind: .generation(body), line: line)
        case "break": return JinjaNode(kind: .breakLoop, line: line)
        case "continue": return JinjaNode(kind: .continueLoop, line: line)
        case "macro":
            let name = try expectName()
            let params = try parseSignature()
            let (body, _) = try parseBlockBody(["endmacro"], opener: (tag, line))
            return JinjaNode(kind: .macro(JinjaMacroDefinition(name: name, parameters: params, body: body)), line: line)
        case "call":
            let params = isOp("(") ? try parseSignature() : []
            let call = try parseExpression()
            guard case .call = call else { throw error("expected call", line: line) }
            let (body, _) = try parseBlockBody(["endcall"], opener: (tag, line))
            return JinjaNode(kind: .callBlock(call, callerParameters: params, body: body), line: line)
        case "filter":
            var filters: [JinjaFilterCall] = []
            repeat { filters.append(try parseFilterCall()) } while skipOp("|")
            let (body, _) = try parseBlockBody(["endfilter"], opener: (tag, line))
            return JinjaNode(kind: .filterBlock(filters, body: body), line: line)
        case "with":
            var assignments: [(JinjaTarget, JinjaExpr)] = []
            while current.kind != .blockEnd {
                if !assignments.isEmpty { try expectOp(",") }
                let target = try parseAssignTarget(endNames: [])
                try expectOp("=")
                assignments.append((target, try parseExpression()))
            }
            let (body, _) = try parseBlockBody(["endwith"], opener: (tag, line))
            return JinjaNode(kind: .with(assignments, body: body), line: line)
        default:
            throw error("encountered unknown tag '\(tag)'", line: line)
        }
    }

    private mutating func parseIf(line: Int) throws -> JinjaNode {
        var branches: [(JinjaExpr, [JinjaNode])] = []
        var otherwise: [JinjaNode] = []
        while true {
            let condition = try parseTuple(withCondition: false)
            let (body, end) = try parseBlockBody(["elif", "else", "endif"], opener: ("if", line))
            branches.append((condition, body))
            if end == "elif" { continue }
            if end == "else" {
                (otherwise, _) = try parseBlockBody(["endif"], opener: ("if", line))
            }
            break
        }
        return JinjaNode(kind: .ifBlock(branches: branches, otherwise: otherwise), line: line)
    }

    private mutating func parseFor(line: Int) throws -> JinjaNode {
        let target = try parseAssignTarget(endNames: ["in"])
        guard skipName("in") else { throw error("expected 'in', got '\(describe(current))'") }
        let iterable = try parseTuple(withCondition: false, endNames: ["recursive"])
        var condition: JinjaExpr?
        if skipName("if") { condition = try parseExpression() }
        if isName("recursive") { throw error("recursive for loops are not supported") }
        let (body, end) = try parseBlockBody(["endfor", "else"], opener: ("for", line))
        var otherwise: [JinjaNode] = []
        if end == "else" { (otherwise, _) = try parseBlockBody(["endfor"], opener: ("for", line)) }
        return JinjaNode(
            kind: .forLoop(target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise),
            line: line)
    }

    private mutating func parseSet(line: Int) throws -> JinjaNode {
        let target = try parseAssignTarget(endNames: [], allowNamespace: true)
        if skipOp("=") { return JinjaNode(kind: .set(target, try parseTuple()), line: line) }
        var filters: [JinjaFilterCall] = []
        while skipOp("|") { filters.append(try parseFilterCall()) }
        let (body, _) = try parseBlockBody(["endset"], opener: ("set", line))
        return JinjaNode(kind: .setBlock(target, filters: filters, body: body), line: line)
    }

    private mutating func parseSignature() throws -> [(String, JinjaExpr?)] {
        try expectOp("(")
        var params: [(String, JinjaExpr?)] = []
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            params.append((name, skipOp("=") ? try parseExpression() : nil))
        }
        try expectOp(")")
        return params
    }

    private mutating func parseAssignTarget(endNames: Set<String>, allowNamespace: Bool = false) throws -> JinjaTarget {
        if allowNamespace, case let .name(ns) = current.kind, case .op(".") = peek().kind {
            advance()
            advance()
            return .namespaceAttribute(ns, try expectName())
        }
        var items: [JinjaTarget] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if current.kind == .blockEnd || isOp(")") || isOp("=") { break }
            if case let .name(n) = current.kind, endNames.contains(n) { break }
            if skipOp("(") {
                items.append(try parseAssignTarget(endNames: []))
                try expectOp(")")
            } else {
                let name = try expectName()
                if ["true", "false", "none", "True", "False", "None"].contains(name) {
                    throw error("can't assign to '\(name)'")
                }
                items.append(.name(name))
            }
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple, let only = items.first { return only }
        if items.isEmpty { throw error("expected an assignment target, got '\(describe(current))'") }
        return .tuple(items)
    }

    // MARK: expressions

    /// An expression or an implicit tuple (`a, b`).
    private mutating func parseTuple(withCondition: Bool = true, endNames: Set<String> = [],
                                     explicitParentheses: Bool = false) throws -> JinjaExpr {
        var items: [JinjaExpr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if current.kind == .variableEnd || current.kind == .blockEnd || isOp(")") { break }
            if case let .name(n) = current.kind, endNames.contains(n) { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw error("expected an expression, got '\(describe(current))'") }
        }
        return .tuple(items)
    }

    private mutating func nest() throws {
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func parseExpression() throws -> JinjaExpr {
        try nest()
        defer { depth -= 1 }
        var expr = try parseOr()
        while skipName("if") {
            let condition = try parseOr()
            let otherwise: JinjaExpr? = skipName("else") ? try parseExpression() : nil
            expr = .conditional(condition: condition, then: expr, otherwise: otherwise)
        }
        return expr
    }

    private mutating func parseOr() throws -> JinjaExpr {
        var left = try parseAnd()
        while skipName("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> JinjaExpr {
        var left = try parseNot()
        while skipName("and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> JinjaExpr {
        try nest()
        defer { depth -= 1 }
        if skipName("not") { return .not(try parseNot()) }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> JinjaExpr {
        let first = try parseMath1()
        var links: [(JinjaCompareOperator, JinjaExpr)] = []
        while true {
            if case let .op(o) = current.kind, let op = JinjaCompareOperator(rawValue: o), op != .contains,
                op != .notContains
            {
                advance()
                links.append((op, try parseMath1()))
            } else if skipName("in") {
                links.append((.contains, try parseMath1()))
            } else if isName("not") && isName("in", peek()) {
                advance()
                advance()
                links.append((.notContains, try parseMath1()))
            } else {
                break
            }
        }
        return links.isEmpty ? first : .compare(first, links)
    }

    private mutating func parseMath1() throws -> JinjaExpr {
        var left = try parseConcat()
        while true {
            if skipOp("+") {
                left = .binary(.add, left, try parseConcat())
            } else if skipOp("-") {
                left = .binary(.subtract, left, try parseConcat())
            } else {
                return left
            }
        }
    }

    private mutating func parseConcat() throws -> JinjaExpr {
        var left = try parseMath2()
        while skipOp("~") { left = .binary(.concat, left, try parseMath2()) }
        return left
    }

    private mutating func parseMath2() throws -> JinjaExpr {
        var left = try parsePow()
        while true {
            guard case let .op(o) = current.kind, ["*", "/", "//", "%"].contains(o),
                let op = JinjaBinaryOperator(rawValue: o)
            else { return left }
            advance()
            left = .binary(op, left, try parsePow())
        }
    }

    private mutating func parsePow() throws -> JinjaExpr {
        var left = try parseUnary()
        while skipOp("**") { left = .binary(.power, left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> JinjaExpr {
        try nest()
        defer { depth -= 1 }
        var node: JinjaExpr
        if skipOp("-") {
            node = .negate(try parseUnary(withFilter: false))
        } else if skipOp("+") {
            node = .plus(try parseUnary(withFilter: false))
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpression(node) }
        return node
    }

    private mutating func parsePrimary() throws -> JinjaExpr {
        let token = current
        switch token.kind {
        case let .name(n):
            advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case let .string(s):
            advance()
            var text = s
            // Adjacent string literals concatenate, as in Python.
            while case let .string(more) = current.kind {
                text += more
                advance()
            }
            return .literal(.string(text))
        case let .integer(i):
            advance()
            return .literal(.int(i))
        case let .float(d):
            advance()
            return .literal(.double(d))
        case .op("("):
            advance()
            let expr = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return expr
        case .op("["):
            advance()
            var items: [JinjaExpr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            advance()
            var pairs: [(JinjaExpr, JinjaExpr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            try expectOp("}")
            return .dict(pairs)
        default:
            throw error("unexpected '\(describe(token))'")
        }
    }

    private mutating func parsePostfix(_ start: JinjaExpr) throws -> JinjaExpr {
        var node = start
        while true {
            if skipOp(".") {
                switch current.kind {
                case let .name(n):
                    advance()
                    node = .attribute(node, n)
                case let .integer(i):
                    advance()
                    node = .item(node, .literal(.int(i)))
                default:
                    throw error("expected name or number after '.', got '\(describe(current))'")
                }
            } else if skipOp("[") {
                node = try parseSubscript(node)
            } else if isOp("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ target: JinjaExpr) throws -> JinjaExpr {
        var parts: [JinjaExpr?] = []
        var isSlice = false
        var current: JinjaExpr?
        while !isOp("]") {
            if skipOp(":") {
                isSlice = true
                parts.append(current)
                current = nil
                continue
            }
            if current != nil { throw error("expected ']' or ':' in subscript, got '\(describe(self.current))'") }
            current = try parseExpression()
        }
        try expectOp("]")
        if !isSlice {
            guard let index = current else { throw error("expected an index inside '[]'") }
            return .item(target, index)
        }
        parts.append(current)
        guard parts.count <= 3 else { throw error("too many ':' in slice") }
        while parts.count < 3 { parts.append(nil) }
        return .slice(target, start: parts[0], stop: parts[1], step: parts[2])
    }

    private mutating func parseCallArguments() throws -> JinjaArguments {
        try expectOp("(")
        var args = JinjaArguments()
        while !isOp(")") {
            if !args.positional.isEmpty || !args.keyword.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if isOp("*") || isOp("**") { throw error("*args and **kwargs in calls are not supported") }
            if case let .name(n) = current.kind, case .op("=") = peek().kind {
                advance()
                advance()
                args.keyword.append((n, try parseExpression()))
            } else {
                if !args.keyword.isEmpty { throw error("positional argument after keyword argument") }
                args.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return args
    }

    private mutating func parseFilterCall() throws -> JinjaFilterCall {
        let line = current.line
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        let args = isOp("(") ? try parseCallArguments() : JinjaArguments()
        return JinjaFilterCall(name: name, arguments: args, line: line)
    }

    private mutating func parseFilterExpression(_ start: JinjaExpr) throws -> JinjaExpr {
        var node = start
        while true {
            if skipOp("|") {
                let filter = try parseFilterCall()
                node = .filter(node, name: filter.name, filter.arguments, line: filter.line)
            } else if skipName("is") {
                let negated = skipName("not")
                let line = current.line
                var name = try expectName()
                while skipOp(".") { name += "." + (try expectName()) }
                var args = JinjaArguments()
                if isOp("(") {
                    args = try parseCallArguments()
                } else if startsTestArgument() {
                    if isName("is") { throw error("You cannot chain multiple tests with is") }
                    args.positional = [try parsePostfix(try parsePrimary())]
                }
                node = .test(node, name: name, args, line: line)
                if negated { node = .not(node) }
            } else if isOp("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    /// Whether a test takes the following token as its single unparenthesised argument
    /// (`x is divisibleby 3`, `x is equalto 'a'`), as jinja2 decides it.
    private func startsTestArgument() -> Bool {
        switch current.kind {
        case let .name(n): return !["else", "or", "and"].contains(n)
        case .string, .integer, .float: return true
        case .op("["), .op("{"): return true
        default: return false
        }
    }
}
