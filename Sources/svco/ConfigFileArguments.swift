#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `--config FILE.yaml` for `svco train`: a flat YAML mapping whose snake_case keys are the flags'
/// names (`learning_rate: 1.0e-6`). The file's values are placed before the command line, so flags
/// given explicitly override them. Only flat `key: value` lines (scalars, quoted or not, `#`
/// comments) are read — all a run configuration needs; a YAML package would bring full Foundation
/// into the binary, which must stay small enough to carry to the GPU machines.
enum ConfigFileArguments {
    /// Options that are on/off flags rather than `--name value`.
    static let flags: Set<String> = ["bf16", "fp16", "reference_free", "allow_outside_root", "gradient_checkpointing",
                                      "no_prefix_sharing", "precompute_ref_log_probs"]

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// Rewrites `arguments` (without the program name), expanding one `--config FILE`.
    static func expand(_ arguments: [String]) throws -> [String] {
        // Only `svco train` reads a YAML run configuration (`svco init --config` names a config.json).
        guard arguments.first == "train", let index = arguments.firstIndex(of: "--config") else { return arguments }
        guard index + 1 < arguments.count else { throw Problem(description: "--config needs a file") }
        let path = arguments[index + 1]
        let fromFile = try read(path)
        var rest = arguments
        rest.removeSubrange(index...(index + 1))
        // Keep the subcommand name first: `train --config x --lr 1` → `train <file flags> --lr 1`.
        let head = rest.isEmpty ? [] : [rest[0]]
        return head + fromFile + rest.dropFirst()
    }

    static func read(_ path: String) throws -> [String] {
        let text: String
        do {
            text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        } catch {
            throw Problem(description: "\(path): cannot read the file")
        }
        var out: [String] = []
        var seen = Set<String>()
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = stripComment(String(rawLine)).trimmed
            if line.isEmpty || line == "---" { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw Problem(description: "\(path): line \(n + 1): expected 'key: value'")
            }
            let key = line[..<colon].trimmed
            var value = line[line.index(after: colon)...].trimmed
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw Problem(description: "\(path): line \(n + 1): '\(key)' is not a flag name (use the flags' snake_case names)")
            }
            guard !value.isEmpty else {
                throw Problem(description: "\(path): line \(n + 1): key '\(key)' has no value (nested YAML is not supported)")
            }
            guard seen.insert(key).inserted else { throw Problem(description: "\(path): line \(n + 1): key '\(key)' appears twice") }
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            let flag = "--" + String(key.map { $0 == "_" ? "-" : $0 })
            if flags.contains(key) {
                switch value.lowercased() {
                case "true", "yes", "on": out.append(flag)
                case "false", "no", "off": break
                default: throw Problem(description: "\(path): line \(n + 1): key '\(key)' must be true or false")
                }
            } else {
                out += [flag, value]
            }
        }
        return out
    }

    /// Drops a `#` comment that is not inside quotes.
    static func stripComment(_ line: String) -> String {
        var quote: Character?
        for (i, c) in zip(line.indices, line) {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "#" {
                return String(line[..<i])
            }
        }
        return line
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmed: String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let start = firstIndex(where: { !isBlank($0) }), let end = lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[start...end])
    }
}
