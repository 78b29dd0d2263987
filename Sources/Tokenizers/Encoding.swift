/// The result of encoding one text.
public struct Encoding: Sendable, Equatable {
    /// Token ids, including any the post-processor added (BOS/EOS).
    public var ids: [Int]
    /// Character offsets into the input, counted in Unicode scalars (= Python str indices, as HF's
    /// `return_offsets_mapping`); tokens added by the post-processor get 0..<0 like HF.
    public var offsets: [Range<Int>]

    /// An encoding from ids and their offsets (same length).
    public init(ids: [Int], offsets: [Range<Int>]) {
        self.ids = ids
        self.offsets = offsets
    }
}
