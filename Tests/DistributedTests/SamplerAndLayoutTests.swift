import Distributed
import Foundation
import Testing

@Suite struct DistributedSamplerTests {
    func slices(_ count: Int, world: Int, shuffle: Bool = false, seed: UInt64 = 0, epoch: Int = 0, dropLast: Bool = false) -> [[Int]] {
        (0..<world).map { DistributedSampler(count: count, worldSize: world, rank: $0, shuffle: shuffle, seed: seed, dropLast: dropLast).indices(epoch: epoch) }
    }

    @Test func unshuffledStridesAndPadsByRepeating() {
        // Hand-derived: 10 records on 3 ranks → 4 each, order padded with records 0 and 1.
        #expect(slices(10, world: 3) == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]])
        // drop_last: ceil((10 - 3) / 3) = 3 each, the tail record 9 is dropped.
        #expect(slices(10, world: 3, dropLast: true) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]])
        // Padding longer than the data repeats it whole: [0, 1] → [0, 1, 0, 1, 0].
        #expect(slices(2, world: 5) == [[0], [1], [0], [1], [0]])
        #expect(slices(3, world: 4, dropLast: true) == [[], [], [], []])
        #expect(slices(0, world: 2) == [[], []])
    }

    @Test func shuffledEqualsTorchsDistributedSampler() throws {
        struct Case: Decodable {
            let count: Int, world: Int, shuffle: Bool, seed: UInt64, epoch: Int, drop_last: Bool
            let ranks: [[Int]]
        }
        struct Fixture: Decodable { let torch: String; let cases: [Case] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sampler.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        #expect(fixture.cases.count == 7)
        for c in fixture.cases {
            let ours = slices(c.count, world: c.world, shuffle: c.shuffle, seed: c.seed, epoch: c.epoch, dropLast: c.drop_last)
            #expect(ours == c.ranks, "count \(c.count) world \(c.world) seed \(c.seed) epoch \(c.epoch) drop_last \(c.drop_last)")
        }
    }

    @Test func ranksWithBatchBReadWhatOneProcessWithBatchWBReads() {
        // Any global order (svco's own shuffle here stands in as a fixed permutation).
        let order = [7, 2, 9, 0, 4, 11, 1, 8, 3, 10, 6, 5]
        let world = 3, batch = 2
        let perRank = (0..<world).map { DistributedSampler(count: order.count, worldSize: world, rank: $0).slice(of: order) }
        for k in 0..<(order.count / (world * batch)) {
            let union = perRank.flatMap { $0[(k * batch)..<((k + 1) * batch)] }
            #expect(Set(union) == Set(order[(k * world * batch)..<((k + 1) * world * batch)]))
        }
    }
}

@Suite struct FlatLayoutTests {
    @Test func bucketsArePaddedRunsOfWholeTensors() {
        // Sizes 35, 5, 24, 6, 11, 1 with capacity 40: [35, 5] [24, 6] [11, 1].
        let layout = FlatLayout(counts: [35, 5, 24, 6, 11, 1], worldSize: 3, bucketCapacity: 40)
        #expect(layout.buckets.map(\.members) == [0..<2, 2..<4, 4..<6])
        #expect(layout.buckets.map(\.start) == [0, 40, 70])
        #expect(layout.buckets.map(\.count) == [40, 30, 12])
        #expect(layout.buckets.map(\.paddedCount) == [42, 30, 12])
        #expect(layout.buckets.map(\.chunk) == [14, 10, 4])
        #expect(layout.total == 82 && layout.shardElements == 28)
        // Rank 2 owns padded positions 28..<42 of bucket 0, of which 28..<40 are real.
        #expect(layout.ownedRange(bucket: 0, rank: 2) == 28..<40)
        #expect(layout.ownedRange(bucket: 1, rank: 1) == 50..<60)
        // A tensor larger than the capacity gets a bucket of its own.
        #expect(FlatLayout(counts: [3, 100, 2], worldSize: 2, bucketCapacity: 10).buckets.map(\.members) == [0..<1, 1..<2, 2..<3])
    }

    @Test func bucketsDoNotDependOnTheWorldSize() {
        let counts = [35, 5, 24, 6, 11, 1]
        let a = FlatLayout(counts: counts, worldSize: 2, bucketCapacity: 40)
        let b = FlatLayout(counts: counts, worldSize: 4, bucketCapacity: 40)
        #expect(a.buckets.map(\.members) == b.buckets.map(\.members))
        // Every real element is owned by exactly one rank.
        for layout in [a, b] {
            for bucket in layout.buckets.indices {
                let owned = (0..<layout.worldSize).map { layout.ownedRange(bucket: bucket, rank: $0) }
                #expect(owned.reduce(0) { $0 + $1.count } == layout.buckets[bucket].count)
            }
        }
    }
}
