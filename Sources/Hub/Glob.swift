/// `--include` / `--exclude` patterns as huggingface_hub's `filter_repo_objects` applies them:
/// shell-style (`*`, `?`, `[abc]`, `[!abc]`) matched against the whole path with Python's
/// `fnmatch`, so `*` also crosses `/`; a pattern ending in `/` means everything under that folder.
public struct PathFilter: Sendable {
    public var include: [String]
    public var exclude: [String]

    public init(include: [String] = [], exclude: [String] = []) {
        self.include = include.map(Self.normalise)
        self.exclude = exclude.map(Self.normalise)
    }

    static func normalise(_ pattern: String) -> String { pattern.hasSuffix("/") ? pattern + "*" : pattern }

    public func accepts(_ path: String) -> Bool {
        if !include.isEmpty && !include.contains(where: { Self.fnmatch($0, path) }) { return false }
        return !exclude.contains { Self.fnmatch($0, path) }
    }

    /// Python's `fnmatch.fnmatchcase` (case-sensitive, as on POSIX).
    public static func fnmatch(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
        // Iterative matching with backtracking to the last `*`.
        var pi = 0, ti = 0
        var starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count {
                switch p[pi] {
                case "*":
                    starP = pi; starT = ti; pi += 1
                    continue
                case "?":
                    pi += 1; ti += 1
                    continue
                case "[":
                    if let (matched, next) = matchClass(p, pi, t[ti]) {
                        if matched { pi = next; ti += 1; continue }
                    } else if t[ti] == "[" {  // an unclosed `[` is a literal
                        pi += 1; ti += 1; continue
                    }
                default:
                    if p[pi] == t[ti] { pi += 1; ti += 1; continue }
                }
            }
            if starP >= 0 {
                pi = starP + 1; starT += 1; ti = starT
                continue
            }
            return false
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Matches `c` against the class starting at `p[start] == "["`; nil when the class is not closed.
    private static func matchClass(_ p: [Unicode.Scalar], _ start: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count && p[i] == "!" { negate = true; i += 1 }
        var matched = false
        var first = true
        while i < p.count && (first || p[i] != "]") {
            first = false
            if i + 2 < p.count && p[i + 1] == "-" && p[i + 2] != "]" {
                if p[i] <= c && c <= p[i + 2] { matched = true }
                i += 3
            } else {
                if p[i] == c { matched = true }
                i += 1
            }
        }
        guard i < p.count else { return nil }
        return (matched != negate, i + 1)
    }
}
