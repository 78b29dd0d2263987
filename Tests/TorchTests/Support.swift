import Foundation
import Testing
@testable import Torch

/// Checks every element of `t` against `expected` within `tolerance` (absolute, scaled by max(1, |e|)).
func expectValues(_ t: Tensor, _ expected: [Double], tolerance: Double = 1e-6,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    let got: [Double] = t.toArray()
    #expect(got.count == expected.count, "count \(got.count) != \(expected.count)", sourceLocation: sourceLocation)
    for (i, (g, e)) in zip(got, expected).enumerated() {
        let ok = (g.isNaN && e.isNaN) || (g == e) || abs(g - e) <= tolerance * max(1, abs(e))
        #expect(ok, "element \(i): \(g) != \(e)", sourceLocation: sourceLocation)
    }
}

func expectShape(_ t: Tensor, _ shape: [Int], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(t.shape == shape, sourceLocation: sourceLocation)
}

/// 0, 1, …, n-1 as float64 in `shape`.
func iota(_ shape: [Int], dtype: DType = .float64) -> Tensor {
    Tensor.arange(0, Scalar(shape.reduce(1, *)), dtype: dtype).reshape(shape)
}

let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

func temporaryDirectory(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = NSTemporaryDirectory() + "svco-tests-\(safe)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
