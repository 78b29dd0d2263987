import ArgumentParser

/// Start-up checks of numeric flags: a value that is not finite or out of range is a usage error
/// naming the flag (ArgumentParser reads `nan` and `inf` as valid Doubles).
enum FlagCheck {
    /// `value` must be finite and within `range`; `range` is described as given ("≥ 0", "in (0, 1]").
    static func finite(_ value: Double, _ flag: String, _ rangeText: String, _ inRange: (Double) -> Bool) throws {
        guard value.isFinite, inRange(value) else {
            throw ValidationError("\(flag) must be a finite number \(rangeText), got \(value)")
        }
    }

    /// `value` must be at least `minimum`.
    static func atLeast(_ value: Int, _ minimum: Int, _ flag: String) throws {
        guard value >= minimum else { throw ValidationError("\(flag) must be at least \(minimum), got \(value)") }
    }
}
