import ArgumentParser
import DataFetch
import Hub
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `svco data fetch …`: the reference's data preparation scripts, resumable and verified.
struct DataFetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch", abstract: "Download and prepare MVC's image sources or the benchmarks' data.",
        discussion: """
            Every step is resumable and idempotent: a rerun checks what is complete and skips it. Downloads \
            retry with backoff, resume with Range, and are checked against the sizes and checksums the \
            sources publish before they take their final name. Hub datasets follow HF_ENDPOINT and HF_TOKEN; \
            SVCO_SOURCE_MIRROR=URL fetches every other file from URL/<host>/<path> instead.
            """,
        subcommands: [FetchMVCSourcesCommand.self, FetchBenchmarksCommand.self])
}

struct FetchOptions: ParsableArguments {
    @Option(help: "The folder to fill.") var out: String
    @Flag(help: "No progress bars.") var quiet = false

    func context(transport: HTTPTransport) -> FetchContext {
        let env = ProcessInfo.processInfo.environment
        return FetchContext(output: FileSystem.absolute(out), environment: .current(), mirror: env["SVCO_SOURCE_MIRROR"].flatMap { $0.isEmpty ? nil : $0 },
                            transport: transport, showProgress: !quiet, log: { print($0) })
    }
}

/// `svco data fetch mvc-sources --out DIR`
struct FetchMVCSourcesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mvc-sources",
        abstract: "Flickr30k, Flickr30k-Counterfactuals (with CounterCurate's preparation), GQA + FineCops-Ref and mvc.json.",
        discussion: "Then: svco data check --model MODEL --data DIR/mvc.json --image-root DIR")

    @OptionGroup var options: FetchOptions

    func run() async throws {
        let transport = HTTPTransport()
        do {
            try await MVCSources.fetch(options.context(transport: transport))
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }
}

/// `svco data fetch benchmarks --out DIR`
struct FetchBenchmarksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmarks",
        abstract: "The eight benchmarks' images and question files, laid out for `svco eval --data-root DIR --benchmark all`.")

    @OptionGroup var options: FetchOptions
    @Option(help: "Only this benchmark (repeatable): \(BenchmarkSources.names.joined(separator: ", ")).") var benchmark: [String] = []

    func validate() throws {
        for name in benchmark where !BenchmarkSources.names.contains(name) {
            throw ValidationError("--benchmark '\(name)' is not one of \(BenchmarkSources.names.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let transport = HTTPTransport()
        do {
            try await BenchmarkSources.fetch(options.context(transport: transport), only: benchmark.isEmpty ? BenchmarkSources.names : benchmark)
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }
}
