import Testing
@testable import Torch

@Suite struct ViewTests {
    let m = iota([2, 3])  // [[0,1,2],[3,4,5]]

    @Test func reshapingViews() {
        expectValues(m.view(3, 2), [0, 1, 2, 3, 4, 5])
        expectShape(m.view(-1), [6])
        expectValues(m.transpose(0, 1).contiguous(), [0, 3, 1, 4, 2, 5])
        expectValues(iota([2, 1, 3]).permute(2, 0, 1).contiguous(), [0, 3, 1, 4, 2, 5])
        expectValues(m.T.reshape(6), [0, 3, 1, 4, 2, 5])
        expectValues(m.narrow(1, start: 1, length: 2), [1, 2, 4, 5])
        expectValues(m.slice(1, 0, 3, step: 2), [0, 2, 3, 5])
        expectValues(m.select(1, 2), [2, 5])
        expectValues(m[1], [3, 4, 5])
        expectShape(m.unsqueeze(0), [1, 2, 3])
        expectShape(m.unsqueeze(-1).squeeze(-1), [2, 3])
        expectShape(iota([1, 2, 1]).squeeze(), [2])
        expectShape(iota([2, 3, 4]).flatten(1), [2, 12])
        expectValues(Tensor([1.0, 2.0], shape: [2, 1]).expand(2, 3), [1, 1, 1, 2, 2, 2])
        expectValues(Tensor([1.0, 2.0]).repeated([2]), [1, 2, 1, 2])
        expectValues(Tensor([1.0, 2.0]).repeatInterleave(2, dim: 0), [1, 1, 2, 2])
        expectValues(m.flip([1]), [2, 1, 0, 5, 4, 3])
        expectValues(Tensor.ones([3, 3]).tril(), [1, 0, 0, 1, 1, 0, 1, 1, 1])
        expectValues(Tensor.ones([3, 3]).triu(1), [0, 1, 1, 0, 0, 1, 0, 0, 0])
    }

    @Test func indexing() {
        expectValues(m.indexSelect(1, Tensor([2, 0])), [2, 0, 5, 3])
        expectValues(m.gather(1, Tensor([2, 2, 0, 1], shape: [2, 2])), [2, 2, 3, 4])
        expectValues(Tensor.zeros([2, 3], dtype: .float64).scatter(1, Tensor([1, 0], shape: [2, 1]), Tensor([7.0, 8.0], shape: [2, 1])),
                     [0, 7, 0, 8, 0, 0])
        let mask = m.gt(2)
        #expect(mask.dtype == .bool)
        expectValues(m.maskedFill(mask, -1), [0, 1, 2, -1, -1, -1])
        expectValues(m.maskedSelect(mask), [3, 4, 5])
        expectValues(Tensor.where(mask, m, m * 10.0), [0, 10, 20, 3, 4, 5])
        expectValues(m.indexPut(mask, Tensor(scalar: 9.0, dtype: .float64)), [0, 1, 2, 9, 9, 9])
        expectValues(Tensor([0.0, 3, 0, 4]).nonzero().flatten(), [1, 3])
        expectValues(Tensor.zeros([3], dtype: .float64).indexPut(Tensor([0, 0, 2]), Tensor([1.0, 2, 3]), accumulate: true), [3, 0, 3])
    }

    @Test func joiningAndSplitting() {
        expectValues(Tensor.cat([m, m * 2.0], dim: 0), [0, 1, 2, 3, 4, 5, 0, 2, 4, 6, 8, 10])
        expectValues(Tensor.cat([m, m], dim: 1), [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
        let s = Tensor.stack([Tensor([1.0, 2]), Tensor([3.0, 4])], dim: 1)
        expectShape(s, [2, 2])
        expectValues(s, [1, 3, 2, 4])
        let parts = iota([7]).split(sizes: [2, 5])
        #expect(parts.count == 2)
        expectValues(parts[1], [2, 3, 4, 5, 6])
        let pieces = iota([7]).split(size: 3)
        #expect(pieces.map(\.count) == [3, 3, 1])
        let chunks = iota([2, 6]).chunk(3, dim: 1)
        #expect(chunks.count == 3)
        expectValues(chunks[2], [4, 5, 10, 11])
    }
}
