#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Datasets

/// One flag as the user wrote it, before its value is read.
public struct FlagSetting: Equatable, Sendable {
    /// How it was written, for messages: `--learning_rate`, or `run.yaml: line 3: learning_rate`.
    public var spelling: String
    /// The snake_case name (`learning_rate`).
    public var name: String
    /// nil when the flag stood alone (`--fp16`).
    public var value: String?

    public init(spelling: String, value: String?) {
        self.spelling = spelling
        name = spelling.canonicalFlagName
        self.value = value
    }

    init(spelling: String, name: String, value: String?) {
        self.spelling = spelling
        self.name = name
        self.value = value
    }
}

/// Reads `svco train`'s flags as HF's `HfArgumentParser` reads a run script's: snake_case and
/// kebab-case names, `--name value` and `--name=value`, any value (also `-1`) after a flag that takes
/// one, booleans alone (true) or with a value (`--fp16 True`), `--no_<flag>` for false, and
/// `--config FILE` (YAML) whose values the command line overrides.
public enum TrainingCommandLine {
    /// The name of the config-file flag.
    public static let configFlag = "config"

    /// Splits `argv` (after the subcommand) into the training flags and everything else (left for
    /// the caller's parser: `--device`, `--help`, unknown flags). Values are not read yet.
    public static func split(_ argv: [String]) -> (settings: [FlagSetting], rest: [String]) {
        var settings: [FlagSetting] = []
        var rest: [String] = []
        var i = 0
        func takesNext() -> String? {
            guard i + 1 < argv.count, !argv[i + 1].hasPrefix("--") else { return nil }
            i += 1
            return argv[i]
        }
        while i < argv.count {
            defer { i += 1 }
            let token = argv[i]
            guard token.hasPrefix("--"), token.count > 2 else {
                rest.append(token)
                continue
            }
            let equals = token.firstIndex(of: "=")
            let spelled = equals.map { String(token[..<$0]) } ?? token
            let inline = equals.map { String(token[token.index(after: $0)...]) }
            if spelled.canonicalFlagName == configFlag {
                settings.append(FlagSetting(spelling: spelled, value: inline ?? takesNext()))
            } else if let flag = TrainingFlags.named(spelled) {
                var value = inline
                if value == nil {
                    if flag.isList {
                        var parts: [String] = []
                        while let next = takesNext() { parts.append(next) }
                        value = parts.isEmpty ? nil : parts.joined(separator: ",")
                    } else {
                        value = takesNext()
                    }
                }
                settings.append(FlagSetting(spelling: spelled, name: flag.name, value: value))
            } else if inline == nil, let negated = negatedBoolean(spelled) {
                settings.append(FlagSetting(spelling: spelled, name: negated.name, value: "false"))
            } else {
                rest.append(token)
            }
        }
        return (settings, rest)
    }

    /// `--no_fix_vit` / `--no-fix-vit`: HF's negative form of a boolean flag.
    static func negatedBoolean(_ spelled: String) -> TrainingFlag? {
        let name = spelled.canonicalFlagName
        guard name.hasPrefix("no_"), let flag = TrainingFlags.named(String(name.dropFirst(3))), flag.isBoolean else { return nil }
        return flag
    }

    /// The arguments the settings give: config files first (in order), then the command line's
    /// flags (the last of repeated ones wins). Every problem names the flag as written.
    public static func parse(_ settings: [FlagSetting], base: TrainingArguments = TrainingArguments()) throws
        -> (arguments: TrainingArguments, explicit: Set<String>)
    {
        var args = base
        var explicit = Set<String>()
        let files = settings.filter { $0.name == configFlag }
        var ordered: [FlagSetting] = []
        for file in files {
            guard let path = file.value else { throw TrainingError.invalidArguments("\(file.spelling) needs a YAML file") }
            ordered += try ConfigFile.read(path)
        }
        ordered += settings.filter { $0.name != configFlag }
        for setting in ordered {
            guard let flag = TrainingFlags.named(setting.name) else {
                throw TrainingError.invalidArguments("\(setting.spelling): not a flag of svco train (see svco train --help)")
            }
            if let problem = flag.assign(&args, setting.value) {
                throw TrainingError.invalidArguments("\(setting.spelling): \(problem)")
            }
            explicit.insert(flag.name)
        }
        for flag in TrainingFlags.all where flag.required && !explicit.contains(flag.name) && flag.current(base) == flag.current(TrainingArguments()) {
            throw TrainingError.invalidArguments("missing \(flag.displayName) <\(flag.placeholder)>")
        }
        return (args, explicit)
    }

    /// The arguments of `settings` with the DeepSpeed file read and the checks between flags made.
    public static func arguments(from settings: [FlagSetting]) throws -> TrainingArguments {
        var (args, explicit) = try parse(settings)
        try args.applyDeepSpeed(explicit: explicit)
        try args.validate()
        return args
    }

    /// Splits, reads and validates a whole command line. Tokens that are not training flags are
    /// refused; the CLI hands those to its own parser first.
    public static func arguments(_ argv: [String]) throws -> TrainingArguments {
        let (settings, rest) = split(argv)
        if let unknown = rest.first { throw TrainingError.invalidArguments("unknown option '\(unknown)'") }
        return try arguments(from: settings)
    }
}

/// `--config FILE.yaml`: a flat YAML mapping of flag names to scalar values (`learning_rate: 1.0e-6`,
/// `fp16: true`, `max_steps: -1`, `report_to: [tensorboard]`). Only flat `key: value` lines (scalars,
/// quoted or not, flow lists, `#` comments) are read — all a run configuration needs; a YAML package
/// would bring full Foundation into the binary, which must stay small enough to carry to the GPU machines.
enum ConfigFile {
    static func read(_ path: String) throws -> [FlagSetting] {
        let text: String
        do {
            text = String(decoding: try FileRead.contents(of: path), as: UTF8.self)
        } catch {
            throw TrainingError.invalidArguments("--config \(error)")
        }
        var out: [FlagSetting] = []
        var seen = Set<String>()
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = stripComment(String(rawLine)).trimmed
            let at = "\(path): line \(n + 1)"
            if line.isEmpty || line == "---" { continue }
            guard let colon = line.firstIndex(of: ":") else { throw TrainingError.invalidArguments("\(at): expected 'key: value'") }
            let key = line[..<colon].trimmed
            var value = line[line.index(after: colon)...].trimmed
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw TrainingError.invalidArguments("\(at): '\(key)' is not a flag name (use the flags' snake_case names)")
            }
            guard !value.isEmpty else { throw TrainingError.invalidArguments("\(at): key '\(key)' has no value (nested YAML is not supported)") }
            guard seen.insert(key.canonicalFlagName).inserted else { throw TrainingError.invalidArguments("\(at): key '\(key)' appears twice") }
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            } else if value.hasPrefix("["), value.hasSuffix("]") {
                value = value.dropFirst().dropLast().split(separator: ",").map { $0.trimmed }.joined(separator: ",")
            } else if value == "null" || value == "~" {
                continue  // YAML's null: the flag keeps its default
            }
            guard key.canonicalFlagName != TrainingCommandLine.configFlag else {
                throw TrainingError.invalidArguments("\(at): a config file cannot name another config file")
            }
            if TrainingFlags.named(key)?.isBoolean == true {
                // YAML 1.1 also spells booleans on/off.
                switch value.lowercased() {
                case "on": value = "true"
                case "off": value = "false"
                default: break
                }
            }
            out.append(FlagSetting(spelling: "\(at): \(key)", name: key.canonicalFlagName, value: value))
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
