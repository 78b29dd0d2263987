/// One setting of `svco train`: its name (HF's snake_case spelling; the kebab-case one is accepted
/// too), other accepted names, help and range rule, bound to the `TrainingArguments` field that holds
/// it. The field's type says how the value is read and its initial value is the default, so each
/// fact about a flag is written once.
public struct TrainingFlag {
    public let name: String
    public let aliases: [String]
    public let help: String
    public let required: Bool
    public let isBoolean: Bool
    public let isList: Bool
    /// What a valid value looks like ("a finite number", "one of …").
    public let expected: String
    /// The value's name in `--help`.
    public let placeholder: String
    /// Sets the field from a text (nil: the flag stood alone, which only booleans may). Returns the
    /// problem with the value, if any.
    let assign: (inout TrainingArguments, String?) -> String?
    /// The field's value as flag text (for help's defaults).
    public let current: (TrainingArguments) -> String

    /// - Parameter value: the value's name in `--help` when the type's (`text`, `n`, …) says too little (`dir`, `file`).
    public init<Value: FlagValue>(_ name: String, _ field: WritableKeyPath<TrainingArguments, Value>, aliases: [String] = [],
                                  value: String? = nil, required: Bool = false, check: FlagCheck<Value>? = nil, _ help: String) {
        self.name = name
        self.aliases = aliases
        self.help = help
        self.required = required
        isBoolean = Value.isBoolean
        isList = Value.isList
        expected = Value.expected
        placeholder = value ?? Value.placeholder
        assign = { args, text in
            guard let text else {
                guard Value.isBoolean, let on = Value(flagText: "true") else { return "needs a value (\(Value.expected))" }
                args[keyPath: field] = on
                return nil
            }
            guard let value = Value(flagText: text) else { return "expected \(Value.expected), got '\(text)'" }
            if let problem = check?.problem(value) { return "\(problem), got \(text)" }
            args[keyPath: field] = value
            return nil
        }
        current = { $0[keyPath: field].flagText }
    }

    /// Every spelling this flag answers to, snake_case (`--` and kebab-case are added when reading).
    var names: [String] { [name] + aliases }

    /// The kebab-case spelling help and messages use.
    public var displayName: String { "--" + name.replacingUnderscores }
}

extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? "-" : $0 }) }
    /// `--learning-rate`, `learning-rate`, `--learning_rate` → `learning_rate`.
    var canonicalFlagName: String {
        var s = Substring(self)
        while s.hasPrefix("-") { s = s.dropFirst() }
        return String(s.map { $0 == "-" ? "_" : $0 })
    }
}
