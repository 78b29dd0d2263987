/// Counts right answers overall and per group, and turns them into fractions.
struct AccuracyTally {
    private(set) var correct = 0
    private(set) var total = 0
    private var groups: [String: (correct: Int, total: Int)] = [:]

    mutating func add(_ isCorrect: Bool, groups names: [String] = []) {
        total += 1
        if isCorrect { correct += 1 }
        for name in names {
            var entry = groups[name] ?? (0, 0)
            entry.total += 1
            if isCorrect { entry.correct += 1 }
            groups[name] = entry
        }
    }

    var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// Accuracy of a group, nil when no response fell into it.
    func accuracy(of name: String) -> Double? {
        guard let entry = groups[name], entry.total > 0 else { return nil }
        return Double(entry.correct) / Double(entry.total)
    }

    var groupNames: [String] { groups.keys.sorted() }
}

/// Rejects an empty response list and questions answered twice, the mistakes a caller that
/// batches and merges generations is most likely to make.
func checkResponses(_ responses: [BenchmarkResponse], benchmark: String) throws {
    guard !responses.isEmpty else { throw EvaluationError.noResponses(benchmark: benchmark) }
    var seen = Set<String>()
    for r in responses where !seen.insert(r.question.id).inserted {
        throw EvaluationError.duplicateResponse(benchmark: benchmark, id: r.question.id)
    }
}
