#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Learning-rate schedules of HF Trainer (`get_scheduler`): the rate used for optimiser step k
/// (0-based) is `baseRate × factor(k)`.
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case constant
        case constantWithWarmup = "constant_with_warmup"
        case linear
        case cosine
    }

    public var kind: Kind
    public var baseRate: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    /// `warmupSteps` > 0 wins over `warmupRatio`, which gives ceil(total × ratio) steps, as HF's
    /// `TrainingArguments.get_warmup_steps`.
    public init(kind: Kind, baseRate: Double, totalSteps: Int, warmupSteps: Int = 0, warmupRatio: Double = 0) {
        self.kind = kind
        self.baseRate = baseRate
        self.totalSteps = totalSteps
        self.warmupSteps = warmupSteps > 0 ? warmupSteps : Int((Double(totalSteps) * warmupRatio).rounded(.up))
    }

    public func factor(step: Int) -> Double {
        let warm = warmupSteps
        switch kind {
        case .constant:
            return 1
        case .constantWithWarmup:
            return step < warm ? Double(step) / Double(max(1, warm)) : 1
        case .linear:
            if step < warm { return Double(step) / Double(max(1, warm)) }
            return max(0, Double(totalSteps - step) / Double(max(1, totalSteps - warm)))
        case .cosine:
            if step < warm { return Double(step) / Double(max(1, warm)) }
            let progress = Double(step - warm) / Double(max(1, totalSteps - warm))
            return max(0, 0.5 * (1 + cos(Double.pi * 0.5 * 2 * progress)))
        }
    }

    /// The rate for optimiser step `step` (0-based).
    public func rate(step: Int) -> Double { baseRate * factor(step: step) }
}
