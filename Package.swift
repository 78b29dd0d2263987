// swift-tools-version: 6.1
// svco — S-VCO finetuning and evaluation of LLaVA-family models on libtorch.
//
// libtorch comes from the pinned PyPI wheel (torch==2.11.0) that `make deps` installs under
// `.deps/py/torch`; set LIBTORCH to a folder with include/ and lib/ to use another copy.
import PackageDescription
import Foundation

let packageDir = Context.packageDirectory
let torchRoot = Context.environment["LIBTORCH"] ?? "\(packageDir)/.deps/py/torch"
let torchLib = "\(torchRoot)/lib"

let torchCxxFlags: [CXXSetting] = [
    .unsafeFlags([
        "-std=c++17",
        "-isystem", "\(torchRoot)/include",
        "-isystem", "\(torchRoot)/include/torch/csrc/api/include",
        "-O2",
    ])
]

// Every product that touches tensors needs libtorch at run time; the rpath lets the
// executable and the test bundle find it without LD_LIBRARY_PATH.
let torchLinker: [LinkerSetting] = [
    .unsafeFlags(["-L\(torchLib)", "-Xlinker", "-rpath", "-Xlinker", torchLib]),
    .linkedLibrary("torch_cpu"),
    .linkedLibrary("c10"),
    .linkedLibrary("dl"),
]

// The executables use jemalloc (Debian's libjemalloc-dev) as the process allocator, libtorch's CPU
// tensors included: glibc's heap keeps freed activations resident and fragments from step to step
// (on the ~100M training bench its peak RSS wandered 3.1–3.3 GB and grew over steps; with jemalloc
// 2.83 GB, steady). Linking it ahead of libc makes its malloc the one every library resolves to.
let processAllocator: [LinkerSetting] = [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]

let package = Package(
    name: "svco",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "svco", targets: ["svco"]),
        .library(name: "Torch", targets: ["Torch"]),
        .library(name: "Models", targets: ["Models", "NN"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "Images", targets: ["Images"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        // Comes with async-http-client; named here because the judge tests' fake server uses it.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // MARK: tensors
        .target(
            name: "CTorch",
            cxxSettings: torchCxxFlags,
            linkerSettings: torchLinker
        ),
        .target(name: "Torch", dependencies: ["CTorch"]),
        .target(name: "NN", dependencies: ["Torch"]),
        .target(name: "Models", dependencies: ["NN", "Torch"]),
        .target(name: "Training", dependencies: ["Models", "NN", "Torch", "Datasets", "Images"]),
        .target(name: "Evaluation", dependencies: ["Models", "Tokenizers", "Images", "Torch"]),

        // MARK: text and images (no libtorch)
        .target(name: "Tokenizers"),
        .systemLibrary(name: "CImageCodecs", path: "Sources/CImageCodecs"),
        .target(name: "Images", dependencies: ["CImageCodecs"]),
        .target(name: "Datasets", dependencies: ["Tokenizers", "Images"]),

        // MARK: GPT judge (networking kept out of Evaluation)
        .target(
            name: "Judge",
            dependencies: [
                "Evaluation", "Torch",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // MARK: command-line tool
        .executableTarget(
            name: "svco",
            dependencies: [
                "Torch", "NN", "Models", "Training", "Evaluation", "Judge", "Datasets", "Tokenizers", "Images",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: processAllocator
        ),
        // make demo's last step: the comparison table and picture (scripts/demo).
        .executableTarget(
            name: "svco-demo-report", dependencies: ["Evaluation", "Images", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/DemoReport"
        ),
        .executableTarget(
            name: "svco-bench", dependencies: ["Torch", "NN", "Models", "Training", "Tokenizers", "Images"], path: "Sources/Bench",
            linkerSettings: processAllocator
        ),

        // MARK: tests
        .testTarget(name: "TorchTests", dependencies: ["Torch"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["Training", "Datasets", "Images", "Tokenizers", "Models", "NN", "Torch"], exclude: ["Fixtures"]
        ),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN", "Torch"], exclude: ["Fixtures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation"], exclude: ["Fixtures"]),
        // A fake OpenAI-compatible server on 127.0.0.1 for JudgeTests and CLITests (test-only).
        .target(
            name: "FakeJudgeServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/FakeJudgeServer"
        ),
        .testTarget(name: "JudgeTests", dependencies: ["Judge", "Evaluation", "FakeJudgeServer"]),
        // Runs the built svco executable (it must be built first: `swift build --build-tests` does);
        // DemoTests grade answers with Evaluation's multiple-choice rule.
        .testTarget(name: "CLITests", dependencies: ["Images", "Evaluation", "FakeJudgeServer"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tokenizers"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], exclude: ["Fixtures"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "Datasets"], exclude: ["Fixtures"]),
    ],
    cxxLanguageStandard: .cxx17
)
