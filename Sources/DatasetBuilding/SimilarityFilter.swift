import Tokenizers

/// `svco data filter`: which scored pairs become MVC candidates (paper, Appendix C).
///
/// In order, each record is:
/// 1. dropped when it is FineCops-Ref's "Order" category (its `source` field names FineCops-Ref,
///    its category field says "order"; both compared on letters and digits only, any case);
/// 2. with thresholds on (the default), kept only if `siglip_similarity > minSiglip` (SigLIP sees
///    the same scene: hard for today's VLMs) and then `dinov2_similarity < maxDinov2` (DINOv2
///    sees a real visual difference) — both strict, as the paper states them;
/// 3. with `sample` set, drawn by ``CategorySampling`` from the records that survived 1–2.
/// Kept records are written in input order with every field as read.
public struct SimilarityFilter: Sendable {
    /// Paper defaults: SigLIP similarity above 0.7, DINOv2 similarity below 0.5.
    public static let defaultMinSiglip = 0.7
    public static let defaultMaxDinov2 = 0.5

    /// nil: no similarity thresholds (the left-right flips, which the paper does not filter).
    public var thresholds: (minSiglip: Double, maxDinov2: Double)?
    public var categoryField: String
    public var sourceField: String
    /// Records to keep after thresholds, by category distribution; nil keeps all survivors.
    public var sample: Int?
    public var seed: UInt64

    public init(thresholds: (minSiglip: Double, maxDinov2: Double)? = (defaultMinSiglip, defaultMaxDinov2),
                categoryField: String = PairFields.defaultCategory, sourceField: String = PairFields.defaultSource,
                sample: Int? = nil, seed: UInt64 = 42) {
        self.thresholds = thresholds
        self.categoryField = categoryField
        self.sourceField = sourceField
        self.sample = sample
        self.seed = seed
    }

    /// Why a record was not kept (the summary's columns, in the order the rules apply).
    public enum Outcome: Int, CaseIterable, Sendable {
        case droppedOrder, droppedSiglip, droppedDinov2, notSampled, kept

        public var title: String {
            switch self {
            case .droppedOrder: "order"
            case .droppedSiglip: "siglip"
            case .droppedDinov2: "dinov2"
            case .notSampled: "unsampled"
            case .kept: "kept"
            }
        }
    }

    /// The category a record without the category field is counted under in the summary.
    public static let noCategory = "(none)"

    /// Applies the rules to `file`; the kept records (input order) and the per-category summary.
    public func apply(_ file: PairFile) throws -> (kept: [JSONValue], summary: FilterSummary) {
        var outcomes = [Outcome?](repeating: nil, count: file.records.count)
        var categories: [String] = []
        let hint = " (run `svco data similarity` first, or pass --no-similarity-filter)"
        for index in file.records.indices {
            let category = try file.optionalString(index, categoryField)
            if category == nil && sample != nil {
                throw DatasetBuildingError(file: file.path, record: index, field: categoryField,
                                           reason: "is missing (--sample needs every record's category)")
            }
            categories.append(category ?? Self.noCategory)
            if let category, let source = try file.optionalString(index, sourceField),
               TextNormalisation.key(source) == "finecopsref", TextNormalisation.key(category) == "order" {
                outcomes[index] = .droppedOrder
                continue
            }
            if let (minSiglip, maxDinov2) = thresholds {
                let siglip = try file.number(index, PairFields.siglipSimilarity, hint: hint)
                let dinov2 = try file.number(index, PairFields.dinov2Similarity, hint: hint)
                if !(siglip > minSiglip) { outcomes[index] = .droppedSiglip; continue }
                if !(dinov2 < maxDinov2) { outcomes[index] = .droppedDinov2; continue }
            }
        }
        let survivors = file.records.indices.filter { outcomes[$0] == nil }
        if let sample {
            guard sample <= survivors.count else {
                throw DatasetBuildingError(file: file.path, reason: "--sample \(sample) asks for more records than the \(survivors.count) left after filtering")
            }
            let drawn = Set(CategorySampling.sample(categories: survivors.map { categories[$0] }, n: sample, seed: seed).map { survivors[$0] })
            for index in survivors { outcomes[index] = drawn.contains(index) ? .kept : .notSampled }
        } else {
            for index in survivors { outcomes[index] = .kept }
        }
        var summary = FilterSummary(categoryField: categoryField)
        for index in file.records.indices { summary.add(categories[index], outcomes[index] ?? .kept) }
        let kept = file.records.indices.filter { outcomes[$0] == .kept }.map { file.records[$0] }
        return (kept, summary)
    }
}
