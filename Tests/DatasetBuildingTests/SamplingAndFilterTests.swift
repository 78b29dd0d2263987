import Foundation
import Testing
import Tokenizers
@testable import DatasetBuilding

/// Category-balanced sampling and the similarity filter, against counts worked out by hand.
@Suite struct CategorySamplingTests {
    @Test func quotasFollowLargestRemainders() {
        // 5 of {A 5, B 3, C 2}: quotas 2.5, 1.5, 1.0 → floors 2, 1, 1; one left over; A and B
        // both have remainder 5 (of 10), A has more records.
        #expect(CategorySampling.quotas(["A": 5, "B": 3, "C": 2], total: 5) == ["A": 3, "B": 1, "C": 1])
        // 2 of {a 1, b 1, c 1}: floors 0; remainders all 2 (of 3), counts all 1 → name order.
        #expect(CategorySampling.quotas(["c": 1, "b": 1, "a": 1], total: 2) == ["a": 1, "b": 1, "c": 0])
        // 5 of {a 3, b 6, c 1}: quotas 1.5, 3.0, 0.5 → floors 1, 3, 0; a and c tie on remainder 5,
        // a has 3 records to c's 1.
        #expect(CategorySampling.quotas(["a": 3, "b": 6, "c": 1], total: 5) == ["a": 2, "b": 3, "c": 0])
        // 4 of {x 7, y 2, z 1}: 2.8, 0.8, 0.4 → floors 2, 0, 0; remainders 8, 8, 4 → x and y.
        #expect(CategorySampling.quotas(["x": 7, "y": 2, "z": 1], total: 4) == ["x": 3, "y": 1, "z": 0])
        // Everything, and nothing.
        #expect(CategorySampling.quotas(["x": 7, "y": 2], total: 9) == ["x": 7, "y": 2])
        #expect(CategorySampling.quotas(["x": 7, "y": 2], total: 0) == ["x": 0, "y": 0])
        // 1000 of a 3-category split of 2999: 1000·n/2999 for 1500, 1000, 499 = 500.17, 333.44, 166.39
        // → floors 500, 333, 166 (999); the largest remainder is 333.44's (1333) → b.
        #expect(CategorySampling.quotas(["a": 1500, "b": 1000, "c": 499], total: 1000) == ["a": 500, "b": 334, "c": 166])
    }

    /// Positions drawn from {a: 0 2 5 6 9, b: 1 4 7, c: 3 8} with quotas a 3, b 1, c 1: a
    /// partial Fisher–Yates per category (a, b, c), j = i + next() % (count − i), SplitMix64.
    /// Expected positions from an independent Python rendering of those documented steps.
    @Test func seededDrawIsTheDocumentedOne() {
        let categories = ["a", "b", "a", "c", "b", "a", "a", "b", "c", "a"]
        #expect(CategorySampling.sample(categories: categories, n: 5, seed: 7) == [0, 1, 2, 3, 5])
        #expect(CategorySampling.sample(categories: categories, n: 5, seed: 8) == [0, 3, 4, 5, 6])
        // Each draw keeps the quotas, whatever the seed.
        for seed in UInt64(0)..<50 {
            let drawn = CategorySampling.sample(categories: categories, n: 5, seed: seed)
            #expect(drawn == drawn.sorted() && Set(drawn).count == 5)
            #expect(drawn.filter { categories[$0] == "a" }.count == 3 && drawn.filter { categories[$0] == "c" }.count == 1)
        }
    }
}

@Suite struct SimilarityFilterTests {
    static func record(_ id: String, _ source: String, _ category: String?, _ siglip: Double?, _ dinov2: Double?) -> String {
        var fields = [#""id": "\#(id)""#, #""source": "\#(source)""#, #""extra": {"k": [1, 2.5, "é"]}"#]
        if let category { fields.append(#""category": "\#(category)""#) }
        if let siglip { fields.append(#""siglip_similarity": \#(siglip)"#) }
        if let dinov2 { fields.append(#""dinov2_similarity": \#(dinov2)"#) }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    static func file(_ records: [String]) throws -> PairFile {
        try PairFile(bytes: Array(("[" + records.joined(separator: ",\n") + "]").utf8), path: "scored.json")
    }

    static let records = [
        record("k1", "CounterCurate", "counting", 0.9, 0.3),     // kept
        record("k2", "CounterCurate", "counting", 0.70001, 0.49), // kept
        record("s1", "CounterCurate", "counting", 0.7, 0.1),      // siglip: 0.7 is not above 0.7
        record("d1", "CounterCurate", "counting", 0.95, 0.5),     // dinov2: 0.5 is not below 0.5
        record("s2", "CounterCurate", "up_down", 0.2, 0.9),       // siglip (fails both; counted once)
        record("k3", "CounterCurate", "up_down", 0.8, -0.2),      // kept
        record("o1", "FineCops-Ref", "Order", 0.99, 0.01),        // order (FineCops-Ref's Order)
        record("o2", "finecops_ref", "order", nil, nil),          // order, no scores needed
        record("k4", "OtherSet", "order", 0.9, 0.2),              // kept: "order" of another source
        record("k5", "FineCops-Ref", "attribute", 0.75, 0.45),    // kept
    ]

    @Test func thresholdsAreStrictAndOrderIsDropped() throws {
        let (kept, summary) = try SimilarityFilter().apply(Self.file(Self.records))
        #expect(kept.map { $0["id"] } == ["k1", "k2", "k3", "k4", "k5"].map { JSONValue.string($0) })
        #expect(kept[0]["extra"] == (try JSONValue.parse(Array(#"{"k": [1, 2.5, "é"]}"#.utf8))))
        #expect(summary.count("counting", .kept) == 2 && summary.count("counting", .droppedSiglip) == 1
                && summary.count("counting", .droppedDinov2) == 1)
        #expect(summary.count("up_down", .droppedSiglip) == 1 && summary.count("up_down", .kept) == 1)
        #expect(summary.count("Order", .droppedOrder) == 1 && summary.count("order", .droppedOrder) == 1
                && summary.count("order", .kept) == 1)
        #expect(summary.total(.kept) == 5 && summary.total(.droppedOrder) == 2)
        #expect(summary.table() == """
            category   input  order  siglip  dinov2  unsampled  kept
            Order          1      1       0       0          0     0
            attribute      1      0       0       0          0     1
            counting       4      0       1       1          0     2
            order          2      1       0       0          0     1
            up_down        2      0       1       0          0     1
            total         10      2       2       1          0     5
            """)
    }

    @Test func otherThresholds() throws {
        let (kept, _) = try SimilarityFilter(thresholds: (0.85, 0.4)).apply(Self.file(Self.records))
        #expect(kept.map { $0["id"] } == ["k1", "k4"].map { JSONValue.string($0) })
    }

    @Test func withoutThresholdsScoresAreNotNeeded() throws {
        let lr = (0..<6).map { Self.record("lr\($0)", "CounterCurate", $0 < 4 ? "left_right" : "counting", nil, nil) }
        // 3 of {left_right 4, counting 2}: quotas 2.0 and 1.0, exactly.
        let filter = SimilarityFilter(thresholds: nil, sample: 3, seed: 1)
        let (kept, summary) = try filter.apply(Self.file(lr))
        #expect(kept.count == 3 && summary.count("left_right", .kept) == 2 && summary.count("counting", .kept) == 1)
        #expect(summary.count("left_right", .notSampled) == 2 && summary.count("counting", .notSampled) == 1)
        #expect(try filter.apply(Self.file(lr)).kept == kept)  // seeded
    }

    @Test func samplingAfterThresholds() throws {
        // Survivors: counting k1 k2, up_down k3, order k4, attribute k5 (5); 3 of them:
        // quotas 1.2, 0.6, 0.6, 0.6 → floors 1, 0, 0, 0; remainders 1, 3, 3, 3 (of 5); two left
        // over to the tied categories of one record each, in name order: attribute, order.
        let (kept, summary) = try SimilarityFilter(sample: 3, seed: 5).apply(Self.file(Self.records))
        #expect(kept.count == 3)
        #expect(summary.count("counting", .kept) == 1 && summary.count("counting", .notSampled) == 1)
        #expect(summary.count("attribute", .kept) == 1 && summary.count("order", .kept) == 1 && summary.count("up_down", .notSampled) == 1)
    }

    @Test func errorsNameRecordAndField() throws {
        let missingScore = try Self.file([Self.record("a", "X", "c", 0.9, nil)])
        #expect { try SimilarityFilter().apply(missingScore) } throws: { error in
            "\(error)".contains("scored.json: record 0: field 'dinov2_similarity': is missing") && "\(error)".contains("--no-similarity-filter")
        }
        let text = try PairFile(bytes: Array(#"[{"category": "c", "siglip_similarity": "high", "dinov2_similarity": 0.1}]"#.utf8), path: "s.json")
        #expect { try SimilarityFilter().apply(text) } throws: { "\($0)".contains("record 0: field 'siglip_similarity': must be a finite number") }
        let noCategory = try Self.file([Self.record("a", "X", nil, 0.9, 0.1)])
        #expect { try SimilarityFilter(sample: 1).apply(noCategory) } throws: { "\($0)".contains("field 'category': is missing (--sample") }
        // Without sampling, a record with no category is counted under "(none)".
        #expect(try SimilarityFilter().apply(noCategory).summary.count("(none)", .kept) == 1)
        #expect { try SimilarityFilter(sample: 6).apply(Self.file(Self.records)) } throws: {
            "\($0)".contains("--sample 6 asks for more records than the 5 left after filtering")
        }
        #expect { try PairFile(bytes: Array(#"{"a": 1}"#.utf8), path: "x.json") } throws: { "\($0)".contains("x.json: must be a JSON array of records") }
        #expect { try PairFile(bytes: Array(#"[{"a": 1}, 3]"#.utf8), path: "x.json") } throws: { "\($0)".contains("x.json: record 1: must be a JSON object") }
        #expect { try PairFile(bytes: Array(#"[{"a": 1},"#.utf8), path: "x.json") } throws: { "\($0)".contains("x.json: not valid JSON") }
    }
}

@Suite struct JSONTextTests {
    @Test func recordsComeBackAsRead() throws {
        let text = #"[{"z": 1, "a": [true, null, -2.5e-07, 1.0], "é\n\"q\"": "tab\there \u0001 ü 😀", "nested": {"b": {}, "a": []}}]"#
        let value = try JSONValue.parse(Array(text.utf8))
        let rendered = JSONText.document(value)
        #expect(try JSONValue.parse(rendered) == value)
        let out = String(decoding: rendered, as: UTF8.self)
        // Field order kept; non-ASCII as UTF-8; control characters escaped; 2-space indents.
        #expect(out.contains("\"z\": 1,\n    \"a\": [\n      true,\n      null,\n      -2.5e-07,\n      1.0\n    ],"))
        #expect(out.contains(#""é\n\"q\"": "tab\there \u0001 ü 😀""#))
        #expect(out.hasSuffix("}\n]\n"))
    }
}

@Suite struct ProgressBarTests {
    @Test func ratesAndLines() {
        #expect(ProgressBar.format(0.054) == "0.05" && ProgressBar.format(3.456) == "3.46" && ProgressBar.format(0.001) == "0.00")
        #expect(ProgressBar.format(35.24) == "35.2" && ProgressBar.format(99.96) == "100.0" && ProgressBar.format(1234.5) == "1235")
        // Not a terminal: one line per tenth of the work (here at 1, 2, …), nothing in between.
        var lines: [String] = []
        let bar = ProgressBar(total: 20, unit: "pairs", label: "similarity", interactive: false, emit: { lines.append($0) })
        for done in 1...20 { bar.update(done) }
        bar.finish()
        #expect(lines.count == 10 && lines.allSatisfy { $0.hasPrefix("similarity [") && $0.hasSuffix("\n") })
        #expect(lines[0].contains("] 2/20 pairs") && lines[9].contains("[########################] 20/20 pairs") && lines[9].contains("ETA 0m0s"))
        // A resumed run starts its count (and its rate) at the work already done.
        var resumed: [String] = []
        let again = ProgressBar(total: 20, unit: "pairs", label: "x", start: 15, interactive: false, emit: { resumed.append($0) })
        again.update(15)
        #expect(resumed.isEmpty)
        again.update(16)
        #expect(resumed.count == 1 && resumed[0].contains("16/20"))
    }
}
