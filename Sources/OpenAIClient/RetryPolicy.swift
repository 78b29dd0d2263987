/// When to ask again: exponential backoff from `baseDelay` (doubling, capped at `maxDelay`), or the
/// server's `Retry-After` seconds when it sends them (capped at `maxRetryAfter`), for at most
/// `maxAttempts` requests per prompt.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    public var maxRetryAfter: Double

    /// Six attempts, 1 s → 2 → 4 → 8 → 16 s apart (about half a minute of waiting in all).
    public init(maxAttempts: Int = 6, baseDelay: Double = 1, maxDelay: Double = 60, maxRetryAfter: Double = 120) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// Statuses worth another try: rate limits and server errors.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || (500...599).contains(status)
    }

    /// Seconds to wait after failed attempt number `attempt` (1-based).
    public func delay(afterAttempt attempt: Int, retryAfter: String?) -> Double {
        if let retryAfter, let seconds = Self.parseRetryAfter(retryAfter) { return min(seconds, maxRetryAfter) }
        var delay = baseDelay
        for _ in 1..<max(1, attempt) { delay *= 2 }
        return min(delay, maxDelay)
    }

    /// `Retry-After: <seconds>` (integer or decimal, as some servers send); an HTTP date is
    /// ignored (the backoff applies).
    static func parseRetryAfter(_ value: String) -> Double? {
        let trimmed = value.unicodeScalars.filter { $0 != " " && $0 != "\t" }
        guard let seconds = Double(String(String.UnicodeScalarView(trimmed))), seconds.isFinite, seconds >= 0 else { return nil }
        return seconds
    }
}
