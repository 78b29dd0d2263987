// svco-bench: the Swift half of `make bench` (scripts/bench runs the references and prints ratios).
// Usage: svco-bench dispatch [iterations] [matmul-threads]
let arguments = Array(CommandLine.arguments.dropFirst())

switch arguments.first {
case "dispatch":
    let iterations = arguments.count > 1 ? Int(arguments[1]) ?? 200_000 : 200_000
    let threads = arguments.count > 2 ? Int(arguments[2]) ?? 0 : 0
    for (name, value) in DispatchBench.run(iterations: iterations, matmulThreads: threads) {
        print(name, value)
    }
default:
    print("usage: svco-bench dispatch [iterations] [matmul-threads]")
}
