/// A binary min-heap of packed `(rank << 32) | position` merge candidates: the lowest rank wins,
/// ties go to the leftmost pair, which is the order HF's BPE applies merges in.
struct MergeHeap {
    private(set) var items: [UInt64] = []

    init(capacity: Int) { items.reserveCapacity(capacity) }

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ x: UInt64) {
        items.append(x)
        items.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            while i > 0 {
                let parent = (i - 1) >> 1
                if h[parent] <= x { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = x
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        return items.withUnsafeMutableBufferPointer { h in
            let top = h[0]
            var i = 0
            let n = h.count
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                let r = l + 1
                let c = (r < n && h[r] < h[l]) ? r : l
                if h[c] >= last { break }
                h[i] = h[c]
                i = c
            }
            h[i] = last
            return top
        }
    }
}
