import Torch

/// Swift-side twin of bench/torch/dispatch_reference.cpp: nanoseconds per small op through the
/// Tensor layer, and 1024² float32 matmul GFLOP/s.
enum DispatchBench {
    static func nanosecondsPerOp(_ iterations: Int, _ op: () -> Void) -> Double {
        for _ in 0..<(iterations / 10) { op() }
        let clock = ContinuousClock()
        let elapsed = clock.measure { for _ in 0..<iterations { op() } }
        let (seconds, attoseconds) = elapsed.components
        return (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(iterations)
    }

    /// Lines "<name> <value>" in the same order and units as the C++ reference.
    static func run(iterations: Int, matmulThreads: Int) -> [(String, Double)] {
        let savedThreads = Torch.threads
        Torch.threads = 1
        let a = Tensor.rand([4, 4]), b = Tensor.rand([4, 4])
        var rows: [(String, Double)] = [
            ("add", nanosecondsPerOp(iterations) { _ = a + b }),
            ("mul_scalar", nanosecondsPerOp(iterations) { _ = a * 0.5 }),
            ("relu", nanosecondsPerOp(iterations) { _ = a.relu() }),
            ("view", nanosecondsPerOp(iterations) { _ = a.view(16) }),
            ("matmul4", nanosecondsPerOp(iterations) { _ = a.matmul(b) }),
            ("sum", nanosecondsPerOp(iterations) { _ = a.sum() }),
            ("softmax", nanosecondsPerOp(iterations) { _ = a.softmax(dim: -1) }),
        ]
        Torch.threads = matmulThreads > 0 ? matmulThreads : savedThreads
        let x = Tensor.rand([1024, 1024]), y = Tensor.rand([1024, 1024])
        let ns = nanosecondsPerOp(20) { _ = x.matmul(y) }
        rows.append(("matmul1024", 2.0 * 1024 * 1024 * 1024 / ns))
        Torch.threads = savedThreads
        return rows
    }
}
