/// A binary min-heap of packed `(rank << 32) | position` merge candidates: the lowest rank wins,
/// ties go to the leftmost pair, which is the order HF's BPE applies merges in.
struct MergeHeap {
    private(set) var items: [UInt64] = []

    init(capacity: Int) { items.reserveCapacity(capacity) }

    var isEmpty: Bool { items.isEmpty }

    mutating func push(_ x: UInt64) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if items[parent] <= x { break }
            items[i] = items[parent]
            i = parent
        }
        items[i] = x
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            let r = l + 1
            let c = (r < n && items[r] < items[l]) ? r : l
            if items[c] >= last { break }
            items[i] = items[c]
            i = c
        }
        items[i] = last
        return top
    }
}
