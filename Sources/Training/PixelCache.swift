import Torch

/// Preprocessed images by path, least recently used evicted first once their bytes exceed `byteLimit`
/// (a training set's images would not fit in memory: a CLIP-336 image is 1.35 MB of float32).
final class PixelCache {
    let byteLimit: Int
    private var entries: [String: (tensor: Tensor, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    private(set) var bytes = 0

    init(byteLimit: Int) { self.byteLimit = byteLimit }

    var count: Int { entries.count }

    func get(_ path: String) -> Tensor? {
        guard let entry = entries[path] else { return nil }
        clock += 1
        entries[path] = (entry.tensor, clock)
        return entry.tensor
    }

    func put(_ path: String, _ tensor: Tensor) {
        clock += 1
        if let old = entries.updateValue((tensor, clock), forKey: path) { bytes -= old.tensor.byteCount }
        bytes += tensor.byteCount
        // Linear scan for the oldest: the cache holds a few hundred images at most.
        while bytes > byteLimit, entries.count > 1, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest.key] = nil
            bytes -= oldest.value.tensor.byteCount
        }
    }
}
