/// Host-side planning of packed scoring passes: sequences that share a prefix are laid into ONE row,
/// `[prefix, answer A, answer B]`, so the prefix (576–729 image positions plus the prompt in S-VCO) is
/// computed once for both; rows are grouped into forward passes of similar width, so that short
/// text-only rows are not padded to the image rows' width. Everything here is plain arrays (no tensors,
/// no device reads): `VisionLanguageModel.packedLogProbs` turns a plan into one forward per group.
///
/// Exactness. In a packed row, positions restart after the prefix for answer B (both answers take
/// positions P, P+1, …), and the attention mask lets each answer see the prefix and its own earlier
/// tokens only, never the other answer. Every token therefore sees exactly the keys, values and rotary
/// positions it has in its own unpacked sequence, so log-probs and gradients equal the unshared
/// computation up to float rounding (the prefix's gradient is the sum of both answers' contributions,
/// as when the two sequences are run separately).

/// One sequence to score: image placeholders already expanded to the feature positions.
public struct ScoredSequence: Sendable, Equatable {
    /// Token ids, each image as `featureCount` image tokens.
    public var ids: [Int]
    /// Same length as `ids`; -100 where the token is not scored.
    public var labels: [Int]
    /// One key per image (in placeholder order) naming what fills its positions (e.g. the file path):
    /// equal keys are encoded once.
    public var images: [String]
    /// Where this sequence's log-prob goes in the output `[sequenceCount]`.
    public var owner: Int

    public init(ids: [Int], labels: [Int], images: [String], owner: Int) {
        self.ids = ids
        self.labels = labels
        self.images = images
        self.owner = owner
    }
}

/// The inputs of one forward pass: `rows × width` tokens, right-padded.
public struct PackedForward: Sendable, Equatable {
    /// Segment codes of `segments`.
    public static let prefix: Int8 = 0, answerA: Int8 = 1, answerB: Int8 = 2, padding: Int8 = 3

    public var rows: Int
    public var width: Int
    /// `rows · width` ids, image positions and padding as `fillId` (their embedding is replaced or unused).
    public var ids: [Int]
    /// `rows · width` rotary positions: the prefix 0..<P, answer A P…, answer B again P….
    public var positions: [Int]
    /// `rows · width` segment codes; nil when every row is a single unpadded sequence (plain causal
    /// attention, the fast kernels).
    public var segments: [Int8]?
    /// Flat indices (`row · width + t`) of image-token positions, ascending.
    public var imagePositions: [Int]
    /// For each image in `imagePositions` order (one per `featureCount` positions), its index into
    /// `PackedBatchPlan.images`.
    public var imageSlots: [Int]
    /// Scored tokens: the flat index of the position whose hidden state predicts the token, the token,
    /// and the sequence it counts for. A shared scored position appears once per sequence.
    public var predictors: [Int]
    public var targets: [Int]
    public var owners: [Int]
}

/// A whole batch of packed forwards.
public struct PackedBatchPlan: Sendable, Equatable {
    public var forwards: [PackedForward]
    /// Distinct image keys, in first-use order; `imageSlots` index into it.
    public var images: [String]
    /// Length of the log-prob output.
    public var sequenceCount: Int
    /// Scored tokens per sequence (by owner).
    public var tokenCounts: [Int]
    /// Token positions the forwards compute, padding included (for benchmarks and tests).
    public var computedPositions: Int { forwards.reduce(0) { $0 + $1.rows * $1.width } }
}

public enum PrefixPacking {
    /// How the rows of a batch are laid out.
    public struct Options: Sendable, Equatable {
        /// Pack each pair into one row sharing the longest common prefix (otherwise one row per sequence).
        public var sharePrefixes = true
        /// Forward rows with images and rows without separately, each padded to its own width.
        public var separateTextOnlyRows = true
        public init(sharePrefixes: Bool = true, separateTextOnlyRows: Bool = true) {
            self.sharePrefixes = sharePrefixes
            self.separateTextOnlyRows = separateTextOnlyRows
        }
    }

    /// Length of the prefix two sequences can share: their longest common prefix of ids, cut back to
    /// the start of the first image whose key differs (equal ids there would carry different features).
    public static func sharedPrefixLength(_ a: ScoredSequence, _ b: ScoredSequence, imageToken: Int, featureCount: Int) -> Int {
        var length = 0
        let limit = min(a.ids.count, b.ids.count)
        while length < limit && a.ids[length] == b.ids[length] { length += 1 }
        var image = 0
        var t = 0
        while t < length {
            if a.ids[t] == imageToken {
                let differs = image >= a.images.count || image >= b.images.count || a.images[image] != b.images[image]
                if differs { return t }
                image += 1
                t += featureCount
            } else {
                t += 1
            }
        }
        // A run of image tokens is never split (both runs are whole here): cap at the last whole run.
        return min(length, t)
    }

    /// Plans the forwards for `sequences`; `pairs` are index pairs into `sequences` that may share a
    /// row (each sequence in at most one pair). `fillId` is written at image and padding positions.
    /// Throws when a sequence's image tokens do not match its images or its labels do not match its ids.
    public static func plan(_ sequences: [ScoredSequence], pairs: [(Int, Int)], sequenceCount: Int, imageToken: Int,
                            featureCount: Int, fillId: Int = 0, options: Options = Options()) throws -> PackedBatchPlan {
        for (i, s) in sequences.enumerated() {
            let tokens = s.ids.lazy.filter { $0 == imageToken }.count
            guard tokens == s.images.count * featureCount, s.labels.count == s.ids.count, s.owner >= 0, s.owner < sequenceCount else {
                throw ModelInputError.imageCountMismatch(row: i, imageTokens: tokens / max(1, featureCount), images: s.images.count)
            }
        }
        // Rows: (prefix length, first, second?) where second shares `prefix` tokens with first.
        var rowSpecs: [(prefix: Int, a: Int, b: Int?)] = []
        var paired = Set<Int>()
        if options.sharePrefixes {
            for (i, j) in pairs where !paired.contains(i) && !paired.contains(j) && i != j {
                paired.insert(i)
                paired.insert(j)
                rowSpecs.append((sharedPrefixLength(sequences[i], sequences[j], imageToken: imageToken, featureCount: featureCount), i, j))
            }
        }
        for i in sequences.indices where !paired.contains(i) { rowSpecs.append((sequences[i].ids.count, i, nil)) }
        rowSpecs.sort { $0.a < $1.a }

        var imageIndex: [String: Int] = [:]
        var images: [String] = []
        func slot(_ key: String) -> Int {
            if let i = imageIndex[key] { return i }
            imageIndex[key] = images.count
            images.append(key)
            return images.count - 1
        }
        var tokenCounts = Array(repeating: 0, count: sequenceCount)
        for s in sequences {
            tokenCounts[s.owner] += s.labels.dropFirst().lazy.filter { $0 != -100 }.count
        }

        func hasImage(_ spec: (prefix: Int, a: Int, b: Int?)) -> Bool {
            !sequences[spec.a].images.isEmpty || spec.b.map { !sequences[$0].images.isEmpty } ?? false
        }
        let groups: [[(prefix: Int, a: Int, b: Int?)]] = options.separateTextOnlyRows
            ? [rowSpecs.filter(hasImage), rowSpecs.filter { !hasImage($0) }]
            : [rowSpecs]

        var forwards: [PackedForward] = []
        for group in groups where !group.isEmpty {
            let lengths = group.map { spec in
                sequences[spec.a].ids.count + (spec.b.map { sequences[$0].ids.count - spec.prefix } ?? 0)
            }
            let width = lengths.max() ?? 0
            let rows = group.count
            var f = PackedForward(rows: rows, width: width, ids: Array(repeating: fillId, count: rows * width),
                                  positions: Array(repeating: 0, count: rows * width), segments: nil,
                                  imagePositions: [], imageSlots: [], predictors: [], targets: [], owners: [])
            var segments = Array(repeating: PackedForward.padding, count: rows * width)
            var needsMask = false
            for (r, spec) in group.enumerated() {
                let base = r * width
                let a = sequences[spec.a]
                if lengths[r] < width || spec.b != nil { needsMask = true }
                // The prefix and answer A are sequence a as it is; answer B follows with positions
                // restarting at the prefix length.
                var layout: [(sequence: ScoredSequence, from: Int, to: Int, at: Int, segment: Int8)] = []
                layout.append((a, 0, spec.prefix, base, PackedForward.prefix))
                layout.append((a, spec.prefix, a.ids.count, base + spec.prefix, PackedForward.answerA))
                if let bi = spec.b {
                    let b = sequences[bi]
                    layout.append((b, spec.prefix, b.ids.count, base + a.ids.count, PackedForward.answerB))
                }
                for part in layout {
                    var image = part.sequence.ids[0..<part.from].lazy.filter { $0 == imageToken }.count / max(1, featureCount)
                    var run = 0  // image tokens so far in the current run (parts start at run boundaries)
                    for t in part.from..<part.to {
                        let flat = part.at + (t - part.from)
                        segments[flat] = part.segment
                        f.positions[flat] = t
                        let id = part.sequence.ids[t]
                        guard id == imageToken else {
                            f.ids[flat] = id
                            run = 0
                            continue
                        }
                        if run % max(1, featureCount) == 0 {
                            f.imageSlots.append(slot(part.sequence.images[min(image, part.sequence.images.count - 1)]))
                            image += 1
                        }
                        run += 1
                        f.imagePositions.append(flat)
                    }
                }
                // Scored tokens: position t is predicted by position t-1 of the same sequence, which
                // lies in the prefix when t-1 < P (for answer B's first token too), else in its own answer.
                for (s, answerStart) in [(spec.a, base)] + (spec.b.map { [($0, base + a.ids.count - spec.prefix)] } ?? []) {
                    let seq = sequences[s]
                    for t in 1..<max(1, seq.ids.count) where seq.labels[t] != -100 {
                        let p = t - 1
                        f.predictors.append(p < spec.prefix ? base + p : answerStart + p)
                        f.targets.append(seq.labels[t])
                        f.owners.append(seq.owner)
                    }
                }
            }
            f.segments = needsMask ? segments : nil
            forwards.append(f)
        }
        return PackedBatchPlan(forwards: forwards, images: images, sequenceCount: sequenceCount, tokenCounts: tokenCounts)
    }
}
