import Dispatch
import Images

/// What training would trip over in a set of records, found before step 1 instead of hours in:
/// images that do not decode, and records whose scored response truncation cuts away.
public enum DatasetPreflight {
    /// An image file that cannot be used, with the records that name it.
    public struct BadImage: Sendable, Equatable {
        public var path: String
        public var message: String
        public var records: [Int]
    }

    /// A record some of whose sequences keep no scored token after truncation.
    public struct Unscored: Sendable, Equatable {
        public var record: Int
        public var kinds: [SequenceKind]
    }

    /// Decodes every distinct image of `records` completely (in parallel, one file per task), so a
    /// missing, truncated or corrupt file is found now. Returns the bad ones in path order.
    public static func badImages(_ records: [MVCRecord]) -> [BadImage] {
        var users: [String: [Int]] = [:]
        for (index, record) in records.enumerated() {
            for path in record.chosenImages + record.rejectedImages where users[path]?.last != index {
                users[path, default: []].append(index)
            }
        }
        let paths = users.keys.sorted()
        let problems = Slots<String>(count: paths.count)
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            do {
                _ = try ImageDecoder.decode(data: [UInt8](try FileRead.contents(of: paths[i])), name: paths[i])
            } catch let error as ImageError {
                problems[i] = error.errorDescription ?? "\(error)"
            } catch {
                problems[i] = "\(error)"
            }
        }
        return paths.indices.compactMap { i in
            problems[i].map { BadImage(path: paths[i], message: $0, records: users[paths[i]] ?? []) }
        }
    }

    /// The records with a sequence of `kinds` whose scored span truncation to the collator's
    /// `maxLength` empties (their loss would be constant and their gradient zero), plus the longest
    /// sequence and how many were truncated at all. Records are tokenised in parallel.
    public static func unscoredRecords(_ records: [MVCRecord], collator: SixSequenceCollator, kinds: [SequenceKind]) throws
        -> (unscored: [Unscored], truncated: Int, longest: Int)
    {
        let results = Slots<Result<[TokenizedSequence], Error>>(count: records.count)
        DispatchQueue.concurrentPerform(iterations: records.count) { i in
            results[i] = Result { try kinds.map { try collator.sequence(records[i], $0) } }
        }
        var unscored: [Unscored] = []
        var truncated = 0, longest = 0
        for index in records.indices {
            guard let sequences = try results[index]?.get() else { continue }
            longest = max(longest, sequences.map(\.ids.count).max() ?? 0)
            truncated += sequences.filter(\.truncated).count
            let lost = zip(kinds, sequences).filter { $0.1.responseLost }.map(\.0)
            if !lost.isEmpty { unscored.append(Unscored(record: index, kinds: lost)) }
        }
        return (unscored, truncated, longest)
    }

    /// "records 3 (cc, rc), 9 (nr), … and 12 more".
    public static func describe(_ unscored: [Unscored], limit: Int = 20) -> String {
        let shown = unscored.prefix(limit).map { "\($0.record) (" + $0.kinds.map(\.rawValue).joined(separator: ", ") + ")" }
        return "record" + (unscored.count == 1 ? " " : "s ") + shown.joined(separator: ", ")
            + (unscored.count > limit ? " and \(unscored.count - limit) more" : "")
    }

    /// One line per bad image ("path: reason (records 1, 4)"), at most `limit` and a count of the rest.
    public static func describe(_ images: [BadImage], limit: Int = 20) -> [String] {
        var lines = images.prefix(limit).map { image in
            let records = image.records.prefix(5).map(String.init).joined(separator: ", ") + (image.records.count > 5 ? ", …" : "")
            return "\(image.message) (record\(image.records.count == 1 ? "" : "s") \(records))"
        }
        if images.count > limit { lines.append("… and \(images.count - limit) more") }
        return lines
    }
}

/// One result slot per task of `concurrentPerform`: each task writes only its own index, so no lock
/// is needed; the slots are read after every task has finished.
private final class Slots<Value>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<Value?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    subscript(i: Int) -> Value? {
        get { slots[i] }
        set { slots[i] = newValue }
    }
}
