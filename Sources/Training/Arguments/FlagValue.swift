import Datasets

/// A type a training flag can hold, read from its command-line or YAML text as HF's argument parser
/// reads it (`HfArgumentParser`: argparse with `string_to_bool` for booleans).
public protocol FlagValue {
    /// The value from its text, or nil when the text is not one.
    init?(flagText: String)
    /// The text that reads back as this value (help's defaults, messages).
    var flagText: String { get }
    /// What a valid text looks like, for "expected …" messages.
    static var expected: String { get }
    /// The value's placeholder in `--help` (`<number>`, `<cosine|linear|…>`).
    static var placeholder: String { get }
    /// Booleans may stand alone (`--fp16` = `--fp16 True`).
    static var isBoolean: Bool { get }
    /// Lists take several values (`--report_to tensorboard wandb`, or comma-separated).
    static var isList: Bool { get }
}

extension FlagValue {
    public static var placeholder: String { "value" }
    public static var isBoolean: Bool { false }
    public static var isList: Bool { false }
}

extension Bool: FlagValue {
    /// HF's `string_to_bool`: yes/true/t/y/1 and no/false/f/n/0, any case.
    public init?(flagText: String) {
        switch flagText.lowercased() {
        case "yes", "true", "t", "y", "1": self = true
        case "no", "false", "f", "n", "0": self = false
        default: return nil
        }
    }
    public var flagText: String { self ? "true" : "false" }
    public static var expected: String { "true or false" }
    public static var placeholder: String { "true|false" }
    public static var isBoolean: Bool { true }
}

extension Double: FlagValue {
    /// Finite numbers only: NaN and infinities are refused here, before any arithmetic sees them.
    public init?(flagText: String) {
        guard let v = Double(flagText), v.isFinite else { return nil }
        self = v
    }
    public var flagText: String { "\(self)" }
    public static var expected: String { "a finite number" }
    public static var placeholder: String { "number" }
}

extension Int: FlagValue {
    public init?(flagText: String) {
        guard let v = Int(flagText) else { return nil }
        self = v
    }
    public var flagText: String { "\(self)" }
    public static var expected: String { "an integer" }
    public static var placeholder: String { "n" }
}

extension UInt64: FlagValue {
    public init?(flagText: String) {
        guard let v = UInt64(flagText) else { return nil }
        self = v
    }
    public var flagText: String { "\(self)" }
    public static var expected: String { "a non-negative integer" }
    public static var placeholder: String { "n" }
}

extension String: FlagValue {
    public init?(flagText: String) {
        guard !flagText.isEmpty else { return nil }
        self = flagText
    }
    public var flagText: String { self }
    public static var expected: String { "a non-empty text" }
    public static var placeholder: String { "text" }
}

extension Optional: FlagValue where Wrapped: FlagValue {
    public init?(flagText: String) {
        guard let v = Wrapped(flagText: flagText) else { return nil }
        self = .some(v)
    }
    public var flagText: String { map(\.flagText) ?? "none" }
    public static var expected: String { Wrapped.expected }
    public static var placeholder: String { Wrapped.placeholder }
    public static var isBoolean: Bool { Wrapped.isBoolean }
}

extension Array: FlagValue where Element: FlagValue {
    /// Comma- or space-separated values.
    public init?(flagText: String) {
        let parts = flagText.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        var values: [Element] = []
        for part in parts {
            guard let v = Element(flagText: part) else { return nil }
            values.append(v)
        }
        guard !values.isEmpty else { return nil }
        self = values
    }
    public var flagText: String { map(\.flagText).joined(separator: ",") }
    public static var expected: String { "one or more of " + Element.expected }
    public static var placeholder: String { Element.placeholder + "…" }
    public static var isList: Bool { true }
}

/// Enumerations are read by their raw value.
extension FlagValue where Self: RawRepresentable, Self.RawValue == String, Self: CaseIterable {
    public init?(flagText: String) {
        guard let v = Self(rawValue: flagText) else { return nil }
        self = v
    }
    public var flagText: String { rawValue }
    public static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
    public static var placeholder: String { allCases.map(\.rawValue).joined(separator: "|") }
}

extension LearningRateSchedule.Kind: FlagValue {}
extension TrainingArguments.DataOrder: FlagValue {}
extension TrainingArguments.IntervalStrategy: FlagValue {}
extension TrainingArguments.ReportTarget: FlagValue {}
extension TrainingArguments.OffloadDevice: FlagValue {}
extension LossKind: FlagValue {}
extension SixSequenceCollator.Family: FlagValue {}

/// A range rule of one flag, checked when the flag is read.
public struct FlagCheck<Value> {
    let problem: (Value) -> String?

    public init(_ problem: @escaping (Value) -> String?) { self.problem = problem }
}

extension FlagCheck where Value: Comparable & FlagValue {
    public static func atLeast(_ low: Value) -> FlagCheck { FlagCheck { $0 < low ? "must be at least \(low.flagText)" : nil } }
    public static func within(_ range: ClosedRange<Value>) -> FlagCheck {
        FlagCheck { range.contains($0) ? nil : "must lie in [\(range.lowerBound.flagText), \(range.upperBound.flagText)]" }
    }
}

extension FlagCheck where Value == Double {
    /// 0 ≤ value < 1 (Adam's β1 and β2).
    public static var unitInterval: FlagCheck { FlagCheck { (0..<1).contains($0) ? nil : "must lie in [0, 1)" } }
}
