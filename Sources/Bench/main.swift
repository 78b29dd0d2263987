// svco-bench: the Swift half of `make bench` (scripts/bench runs the references and prints ratios).
// Usage: svco-bench dispatch [iterations] [matmul-threads] | model CONFIG BATCH TEXT_LEN STEPS THREADS
#if canImport(Glibc)
import Glibc
#endif
let arguments = Array(CommandLine.arguments.dropFirst())

switch arguments.first {
case "dispatch":
    let iterations = arguments.count > 1 ? Int(arguments[1]) ?? 200_000 : 200_000
    let threads = arguments.count > 2 ? Int(arguments[2]) ?? 0 : 0
    for (name, value) in DispatchBench.run(iterations: iterations, matmulThreads: threads) {
        print(name, value)
    }
case "model":
    // svco-bench model CONFIG BATCH TEXT_LEN STEPS THREADS
    let n = arguments.dropFirst(2).compactMap { Int($0) }
    guard arguments.count == 6, n.count == 4 else {
        print("usage: svco-bench model CONFIG BATCH TEXT_LEN STEPS THREADS")
        exit(2)
    }
    do {
        for (name, value) in try ModelBench.run(configPath: arguments[1], batch: n[0], textLength: n[1], steps: n[2], threads: n[3]) {
            print(name, value)
        }
    } catch {
        print("error: \(error)")
        exit(1)
    }
default:
    print("usage: svco-bench dispatch [iterations] [matmul-threads] | model CONFIG BATCH TEXT_LEN STEPS THREADS")
}
