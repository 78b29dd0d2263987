import Datasets

/// Category-balanced sampling: `n` records whose category counts follow the input's distribution.
///
/// **Counts** (Hamilton's largest-remainder method, in exact integer arithmetic): with `n_c`
/// records of category `c` among `M`, category `c` first gets `floor(n · n_c / M)`; the
/// `L = n − Σ floor(…)` records left over (fewer than the number of categories) go one each to
/// the `L` categories with the largest remainder `(n · n_c) mod M`, ties broken by the larger
/// `n_c`, then by the category name in ascending Unicode code-point order. So 5 of {A: 5, B: 3,
/// C: 2} is A 3, B 1, C 1 (quotas 2.5, 1.5, 1.0; A and B tie on remainder 5, A is larger).
///
/// **Which records** (seeded, ``SplitMix64``): categories are visited in ascending name order;
/// in each, a partial Fisher–Yates shuffle over its records' positions (in input order) draws
/// `k`: for `i` in `0..<k`, swap position `i` with `i + next() % (count − i)`. The result keeps
/// the input order. The same input, `n` and seed always give the same records.
public enum CategorySampling {
    /// How many records to take from each category (see the type's documentation).
    /// `counts` maps category → records available; `n` must not exceed their sum.
    public static func quotas(_ counts: [String: Int], total n: Int) -> [String: Int] {
        let m = counts.values.reduce(0, +)
        precondition(n >= 0 && n <= m, "sample size \(n) outside 0...\(m)")
        guard m > 0 else { return counts.mapValues { _ in 0 } }
        var result: [String: Int] = [:]
        var remainders: [(name: String, remainder: Int, count: Int)] = []
        for (name, count) in counts {
            // n · n_c fits easily: both are record counts.
            let (quotient, remainder) = (n * count).quotientAndRemainder(dividingBy: m)
            result[name] = quotient
            remainders.append((name, remainder, count))
        }
        let leftover = n - result.values.reduce(0, +)
        remainders.sort {
            if $0.remainder != $1.remainder { return $0.remainder > $1.remainder }
            if $0.count != $1.count { return $0.count > $1.count }
            return Array($0.name.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.name.unicodeScalars.map(\.value))
        }
        for entry in remainders.prefix(leftover) { result[entry.name, default: 0] += 1 }
        return result
    }

    /// The positions (ascending) of `n` records drawn from `categories` (one category per
    /// record, in input order) with ``quotas(_:total:)`` and `seed`.
    public static func sample(categories: [String], n: Int, seed: UInt64) -> [Int] {
        var members: [String: [Int]] = [:]
        for (position, category) in categories.enumerated() { members[category, default: []].append(position) }
        let quota = quotas(members.mapValues(\.count), total: n)
        var rng = SplitMix64(seed: seed)
        var chosen: [Int] = []
        let names = members.keys.sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
        for name in names {
            var pool = members[name] ?? []
            let k = quota[name] ?? 0
            for i in 0..<k {
                let j = i + Int(rng.next() % UInt64(pool.count - i))
                pool.swapAt(i, j)
            }
            chosen += pool.prefix(k)
        }
        return chosen.sorted()
    }
}
