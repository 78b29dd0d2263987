import Testing
@testable import NN
@testable import Torch

/// The preallocated KV cache hands out exactly what concatenating every step's keys and values
/// would, whether the buffer was reserved up front or grows (doubling) along the way.
@Suite struct KVCacheTests {
    @Test(arguments: [0, 3, 11, 64])
    func historyEqualsTheConcatenationOfSteps(capacity: Int) throws {
        let g = Generator(seed: 7)
        let cache = KVCache(layers: 2, capacity: capacity)
        var keys: [[Tensor]] = [[], []], values: [[Tensor]] = [[], []]
        // A 5-position prefill, then single steps: 5 + 6 = 11 positions in all.
        for length in [5, 1, 1, 1, 1, 1, 1] {
            for layer in 0..<2 {
                let k = Tensor.randn([2, 3, length, 4], generator: g), v = Tensor.randn([2, 3, length, 4], generator: g)
                keys[layer].append(k)
                values[layer].append(v)
                let (fullK, fullV) = cache.update(layer: layer, keys: k, values: v)
                #expect(fullK.shape == [2, 3, keys[layer].reduce(0) { $0 + $1.size(2) }, 4])
                #expect(maxDifference(fullK, Tensor.cat(keys[layer], dim: 2)) == 0)
                #expect(maxDifference(fullV, Tensor.cat(values[layer], dim: 2)) == 0)
            }
        }
        #expect(cache.length == 11)
        let k0 = try #require(cache.keys(layer: 0)), v1 = try #require(cache.values(layer: 1))
        #expect(maxDifference(k0, Tensor.cat(keys[0], dim: 2)) == 0 && maxDifference(v1, Tensor.cat(values[1], dim: 2)) == 0)
    }

    @Test func emptyCacheHasNoHistory() {
        let cache = KVCache(layers: 3, capacity: 8)
        #expect(cache.length == 0 && cache.keys(layer: 2) == nil && cache.values(layer: 0) == nil)
    }
}
