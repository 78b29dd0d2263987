import Torch

/// The collator's side of LLaVA's image placeholders: sequences are built and truncated with ONE
/// image token per image, then each is expanded into the `featureCount` positions the image's
/// features fill (labels -100 there), and the rows are right-padded into a batch.
public enum ImageTokens {
    /// One row with each `imageToken` repeated `featureCount` times (labels -100 at those positions).
    public static func expand(ids: [Int], labels: [Int], imageToken: Int, featureCount: Int) -> (ids: [Int], labels: [Int]) {
        var outIds: [Int] = []
        var outLabels: [Int] = []
        outIds.reserveCapacity(ids.count + featureCount)
        for (i, id) in ids.enumerated() {
            if id == imageToken {
                outIds += repeatElement(imageToken, count: featureCount)
                outLabels += repeatElement(-100, count: featureCount)
            } else {
                outIds.append(id)
                outLabels.append(i < labels.count ? labels[i] : -100)
            }
        }
        return (outIds, outLabels)
    }

    /// Right-pads rows into `[B, T]` int64 tensors: ids (pad with `padId`), attention mask, labels (-100).
    public static func rightPad(_ rows: [(ids: [Int], labels: [Int])], padId: Int) -> (ids: Tensor, mask: Tensor, labels: Tensor) {
        let width = rows.map(\.ids.count).max() ?? 0
        var ids: [Int] = [], mask: [Int] = [], labels: [Int] = []
        for row in rows {
            let pad = width - row.ids.count
            ids += row.ids + repeatElement(padId, count: pad)
            mask += Array(repeating: 1, count: row.ids.count) + Array(repeating: 0, count: pad)
            labels += row.labels + repeatElement(-100, count: pad)
        }
        let shape = [rows.count, width]
        return (Tensor(ids, shape: shape), Tensor(mask, shape: shape), Tensor(labels, shape: shape))
    }

    /// Number of images referenced by a row.
    public static func count(in ids: [Int], imageToken: Int) -> Int { ids.lazy.filter { $0 == imageToken }.count }
}
