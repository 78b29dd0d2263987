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
// c10d's ProcessGroupGloo.hpp includes gloo headers the torch wheel lacks: Debian's libgloo-dev headers,
// extracted by `make gloo` (never its library: libtorch_cpu carries its own gloo).
let glooHeaders = Context.environment["GLOO_HEADERS"] ?? "\(packageDir)/.deps/gloo/usr/include"

let torchCxxFlags: [CXXSetting] = [
    .unsafeFlags([
        "-std=c++17",
        "-isystem", "\(torchRoot)/include",
        "-isystem", "\(torchRoot)/include/torch/csrc/api/include",
        "-isystem", glooHeaders,
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
        .library(name: "OpenAIClient", targets: ["OpenAIClient", "ChatCompletions"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        // Comes with async-http-client; named here because the judge tests' fake server uses it.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // SHA-256 of the reference log-prob cache (checksums, weight and record keys); already in the
        // graph through async-http-client, so the range admits the version it resolves.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // MARK: tensors
        .target(
            name: "CTorch",
            // nccl/ is the NCCL bridge, a separate library built by `make nccl-bridge` and loaded at run time.
            exclude: ["nccl"],
            cxxSettings: torchCxxFlags,
            linkerSettings: torchLinker
        ),
        .target(name: "Torch", dependencies: ["CTorch", "AtomicFiles", "DecodingDiagnostics", "JSONLiteral"]),
        .target(name: "NN", dependencies: ["Torch"]),
        .target(name: "Models", dependencies: ["NN", "Torch", "AtomicFiles", "DecodingDiagnostics"]),
        // Multi-process training on torch's c10d: process groups, launch environment, samplers, ZeRO.
        .target(name: "Distributed", dependencies: ["CTorch", "Torch", "NN"]),
        // The trainer runs data parallel over Distributed's process groups and ZeRO optimisers.
        .target(name: "Training", dependencies: ["Models", "NN", "Torch", "Datasets", "Images", "ImageTensors", "AtomicFiles", "Distributed",
                                                 .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "Evaluation",
            dependencies: ["Models", "Tokenizers", "Images", "ImageTensors", "Torch", "AtomicFiles", "DecodingDiagnostics", "ChatCompletions"]
        ),
        // Decoded, preprocessed images as `pixel_values` tensors (the one bridge of Images and Torch).
        .target(name: "ImageTensors", dependencies: ["Images", "Torch"]),
        // SigLIP and DINOv2 similarities of image pairs (`svco data similarity`'s models).
        .target(name: "ImageSimilarity", dependencies: ["Models", "Images", "ImageTensors", "Torch"]),

        // MARK: files, text and images (no libtorch)
        // Whole-or-nothing file writes (temporary file, fsync, rename).
        .target(name: "AtomicFiles"),
        .target(name: "JSONLiteral"),
        // DecodingError read once, for every module's file-and-field error messages.
        .target(name: "DecodingDiagnostics"),
        .target(name: "Tokenizers", dependencies: ["DecodingDiagnostics"]),
        .systemLibrary(name: "CImageCodecs", path: "Sources/CImageCodecs"),
        .target(name: "Images", dependencies: ["CImageCodecs", "DecodingDiagnostics"]),
        .target(name: "Datasets", dependencies: ["Tokenizers", "Images", "DecodingDiagnostics"]),

        // MARK: chat-completions client and the GPT judge (networking kept out of Evaluation)
        // Chat-completions requests as data (no networking): judge prompts and the client share them.
        .target(name: "ChatCompletions"),
        // OpenAI-compatible client: no libtorch, no Evaluation, so dataset building can use it.
        .target(
            name: "OpenAIClient",
            dependencies: [
                "ChatCompletions", "AtomicFiles", "DecodingDiagnostics",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(name: "Judge", dependencies: ["Evaluation", "ChatCompletions", "OpenAIClient"]),

        // MARK: downloads (Hub cache and API, dataset sources; no libtorch)
        .target(
            name: "Hub",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive"),
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy"),
        .target(name: "Parquet", dependencies: ["CSnappy"]),
        .target(name: "DataFetch", dependencies: ["Hub", "Parquet", "Images", "CArchive"]),

        // MARK: building MVC-style datasets (no libtorch: the similarity models are passed in)
        .target(
            name: "DatasetBuilding",
            dependencies: ["Datasets", "Tokenizers", "ChatCompletions", "OpenAIClient", "AtomicFiles", "JSONLiteral"]
        ),

        // MARK: command-line tool
        .executableTarget(
            name: "svco",
            dependencies: [
                "Torch", "NN", "Models", "Training", "Evaluation", "Judge", "OpenAIClient", "ChatCompletions", "Datasets", "DatasetBuilding", "ImageSimilarity", "Tokenizers", "Images", "ImageTensors", "AtomicFiles", "Hub", "DataFetch", "Distributed",
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
            name: "svco-bench", dependencies: ["Torch", "NN", "Models", "Training", "Datasets", "Tokenizers", "Images"], path: "Sources/Bench",
            linkerSettings: processAllocator
        ),

        // MARK: tests
        .testTarget(name: "AtomicFilesTests", dependencies: ["AtomicFiles"]),
        .testTarget(name: "DecodingDiagnosticsTests", dependencies: ["DecodingDiagnostics"]),
        .testTarget(name: "TorchTests", dependencies: ["Torch", "AtomicFiles"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["Training", "Datasets", "Images", "Tokenizers", "Models", "NN", "Torch"], exclude: ["Fixtures"]
        ),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "NN", "Torch"], exclude: ["Fixtures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Images", "ImageTensors", "Models", "Torch"], exclude: ["Fixtures"]),
        // A fake OpenAI-compatible server on 127.0.0.1 for JudgeTests and CLITests (test-only).
        .target(
            name: "FakeJudgeServer",
            dependencies: [
                "JSONLiteral",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/FakeJudgeServer"
        ),
        .testTarget(name: "JudgeTests", dependencies: ["Judge", "OpenAIClient", "ChatCompletions", "Evaluation", "FakeJudgeServer"]),
        // Runs the built svco executable (it must be built first: `swift build --build-tests` does);
        // DemoTests grade answers with Evaluation's multiple-choice rule.
        .testTarget(name: "CLITests", dependencies: ["Images", "Evaluation", "FakeJudgeServer"], exclude: ["Fixtures"]),
        // One rank of the multi-process tests: DistributedTests starts several (test-only).
        .executableTarget(
            name: "svco-dist-worker", dependencies: ["Distributed", "Training", "NN", "Torch"],
            path: "Tests/DistributedWorker"
        ),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Torch"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tokenizers"]),
        .testTarget(
            name: "DatasetBuildingTests",
            dependencies: ["DatasetBuilding", "Datasets", "Tokenizers", "OpenAIClient", "ChatCompletions", "FakeJudgeServer"]
        ),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], exclude: ["Fixtures"]),
        // A fake Hub (API, resolve, a CDN on another port) and plain file server on 127.0.0.1 (test-only).
        .target(
            name: "FakeHubServer",
            dependencies: [
                "Hub",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/FakeHubServer"
        ),
        .testTarget(name: "HubTests", dependencies: ["Hub", "FakeHubServer"], exclude: ["Fixtures"]),
        .testTarget(name: "DataFetchTests", dependencies: ["DataFetch", "Parquet", "Hub", "Images", "FakeHubServer"], exclude: ["Fixtures"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "Datasets"], exclude: ["Fixtures"]),
    ],
    cxxLanguageStandard: .cxx17
)
