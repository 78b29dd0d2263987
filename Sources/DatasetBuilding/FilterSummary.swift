/// Per category: how many records came in, were dropped by each rule, and were kept.
public struct FilterSummary: Sendable, Equatable {
    public let categoryField: String
    /// category → count per ``SimilarityFilter/Outcome`` (indexed by its raw value).
    public private(set) var rows: [String: [Int]] = [:]

    public init(categoryField: String) { self.categoryField = categoryField }

    mutating func add(_ category: String, _ outcome: SimilarityFilter.Outcome) {
        rows[category, default: [Int](repeating: 0, count: SimilarityFilter.Outcome.allCases.count)][outcome.rawValue] += 1
    }

    /// How many records of `category` ended with `outcome`.
    public func count(_ category: String, _ outcome: SimilarityFilter.Outcome) -> Int {
        rows[category]?[outcome.rawValue] ?? 0
    }

    /// All categories' records that ended with `outcome`.
    public func total(_ outcome: SimilarityFilter.Outcome) -> Int {
        rows.values.reduce(0) { $0 + $1[outcome.rawValue] }
    }

    /// A plain-text table, categories in name order, then the totals:
    /// ```
    /// category   input  order  siglip  dinov2  unsampled  kept
    /// counting       4      0       1       1          0     2
    /// ```
    public func table() -> String {
        let outcomes = SimilarityFilter.Outcome.allCases
        let header = [categoryField, "input"] + outcomes.map(\.title)
        var lines: [[String]] = [header]
        for name in rows.keys.sorted() {
            let counts = rows[name] ?? []
            lines.append([name, String(counts.reduce(0, +))] + counts.map { String($0) })
        }
        let totals = outcomes.map { total($0) }
        lines.append(["total", String(totals.reduce(0, +))] + totals.map { String($0) })
        var widths = [Int](repeating: 0, count: header.count)
        for line in lines { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return lines.map { line in
            line.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
