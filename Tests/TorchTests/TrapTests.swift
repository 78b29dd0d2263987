import Testing
@testable import Torch

@Suite struct TrapTests {
    /// A shape mismatch is a programming error: the process stops, and the message carries the op,
    /// the operand shapes and torch's own explanation.
    @Test func shapeMismatchSurfacesTorchsMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]).matmul(Tensor.zeros([2, 3]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("torch op matmul failed"))
        #expect(stderr.contains("float32[2, 3], float32[2, 3]"))
        #expect(stderr.contains("mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"))
    }
}
