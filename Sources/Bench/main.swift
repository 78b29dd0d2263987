// svco-bench: the Swift half of `make bench` (scripts/bench runs the references and prints ratios).
// Usage: svco-bench dispatch [iterations] [matmul-threads] | model CONFIG BATCH TEXT_LEN STEPS THREADS
//        | generate MODEL_DIR INPUTS NEW_TOKENS THREADS REPEATS [REFERENCE_TOKENS]
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
case "train-step":
    // svco-bench train-step CONFIG RECORDS TEXT_LEN STEPS THREADS [--gradient-checkpointing] [--fp16]
    let options = Set(arguments.filter { $0.hasPrefix("--") })
    let positional = arguments.filter { !$0.hasPrefix("--") }
    let n = positional.dropFirst(2).compactMap { Int($0) }
    guard positional.count == 6, n.count == 4, options.isSubset(of: ["--gradient-checkpointing", "--fp16"]) else {
        print("usage: svco-bench train-step CONFIG RECORDS TEXT_LEN STEPS THREADS [--gradient-checkpointing] [--fp16]")
        exit(2)
    }
    do {
        for (name, value) in try TrainStepBench.run(configPath: positional[1], records: n[0], textLength: n[1], steps: n[2], threads: n[3],
                                                    gradientCheckpointing: options.contains("--gradient-checkpointing"),
                                                    fp16: options.contains("--fp16")) {
            print(name, value)
        }
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "mvc-train":
    // svco-bench mvc-train MODEL_DIR DATA_JSON RECORDS THREADS [--unpacked] [--no-prefix-sharing]
    //   [--no-separate-text-rows] [--no-encode-once] [--keep-elementwise-activations] [--precompute] [--write-batch FILE]
    let known: Set<String> = ["--unpacked", "--no-prefix-sharing", "--no-separate-text-rows", "--no-encode-once",
                              "--keep-elementwise-activations", "--precompute"]
    var rest = Array(arguments.dropFirst())
    var writeBatch: String?
    if let i = rest.firstIndex(of: "--write-batch"), i + 1 < rest.count {
        writeBatch = rest[i + 1]
        rest.removeSubrange(i...(i + 1))
    }
    let options = Set(rest.filter { $0.hasPrefix("--") })
    let positional = rest.filter { !$0.hasPrefix("--") }
    guard positional.count == 4, let records = Int(positional[2]), let threads = Int(positional[3]), options.isSubset(of: known) else {
        print("usage: svco-bench mvc-train MODEL_DIR DATA_JSON RECORDS THREADS [\(known.sorted().joined(separator: "] ["))] [--write-batch FILE]")
        exit(2)
    }
    var setup = MVCTrainBench.Setup(modelDirectory: positional[0], dataFile: positional[1], records: records, threads: threads)
    setup.unpacked = options.contains("--unpacked")
    setup.levers.sharePrefixes = !options.contains("--no-prefix-sharing")
    setup.levers.separateTextOnlyRows = !options.contains("--no-separate-text-rows")
    setup.levers.encodeImagesOnce = !options.contains("--no-encode-once")
    setup.precompute = options.contains("--precompute")
    setup.recomputeElementwise = !options.contains("--keep-elementwise-activations")
    setup.writeBatch = writeBatch
    do {
        for (name, value) in try MVCTrainBench.run(setup) { print(name, value) }
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "generate":
    // svco-bench generate MODEL_DIR INPUTS_SAFETENSORS NEW_TOKENS THREADS REPEATS [REFERENCE_TOKENS_JSON]
    let n = arguments.dropFirst(3).prefix(3).compactMap { Int($0) }
    guard arguments.count == 6 || arguments.count == 7, n.count == 3 else {
        print("usage: svco-bench generate MODEL_DIR INPUTS_SAFETENSORS NEW_TOKENS THREADS REPEATS [REFERENCE_TOKENS_JSON]")
        exit(2)
    }
    do {
        for (name, value) in try GenerateBench.run(modelDirectory: arguments[1], inputsFile: arguments[2], newTokens: n[0], threads: n[1],
                                                    repeats: n[2], referenceTokensFile: arguments.count == 7 ? arguments[6] : nil) {
            print(name, value)
        }
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "tokenizer":
    // svco-bench tokenizer TEXT_FILE TOKENIZER_DIR
    guard arguments.count == 3 else {
        print("usage: svco-bench tokenizer TEXT_FILE TOKENIZER_DIR")
        exit(2)
    }
    do {
        print("mb_per_s", try TokenizerBench.run(textFile: arguments[1], tokenizerDirectory: arguments[2]))
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "images":
    // svco-bench images PROCESSOR_DIR REFERENCE_JSON FILE...
    guard arguments.count >= 4 else {
        print("usage: svco-bench images PROCESSOR_DIR REFERENCE_JSON FILE...")
        exit(2)
    }
    do {
        let swift = try ImageBench.run(imageFiles: Array(arguments.dropFirst(3)), processorDirectory: arguments[1])
        let reference = try? ImageBench.referenceImagesPerSecond(jsonFile: arguments[2])
        print(ImageBench.report(label: arguments[1].split(separator: "/").last.map(String.init) ?? "images", swift: swift,
                                reference: reference))
    } catch {
        print("error: \(error)")
        exit(1)
    }
default:
    print("usage: svco-bench dispatch [iterations] [matmul-threads] | model CONFIG BATCH TEXT_LEN STEPS THREADS | generate MODEL_DIR INPUTS NEW_TOKENS THREADS REPEATS [REFERENCE_TOKENS] | tokenizer TEXT_FILE TOKENIZER_DIR | images PROCESSOR_DIR REFERENCE_JSON FILE...")
}
