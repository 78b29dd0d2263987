import Hub
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What every fetch step shares: the output folder, the Hub settings, the HTTP client, the log.
///
/// `mirror` (the `SVCO_SOURCE_MIRROR` environment variable) sends every non-Hub download to
/// `MIRROR/<host>/<path>` instead, for a local copy of the sources (the tests' loopback server
/// uses it); Hub repositories follow `HF_ENDPOINT`.
public struct FetchContext: Sendable {
    public var output: String
    public var environment: HubEnvironment
    public var mirror: String?
    public var transport: HTTPTransport
    public var backoff: Backoff
    public var showProgress: Bool
    public var log: @Sendable (String) -> Void

    public init(output: String, environment: HubEnvironment, mirror: String? = nil, transport: HTTPTransport,
                backoff: Backoff = Backoff(), showProgress: Bool = true, log: @escaping @Sendable (String) -> Void) {
        self.output = output
        self.environment = environment
        self.mirror = mirror.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.transport = transport
        self.backoff = backoff
        self.showProgress = showProgress
        self.log = log
    }

    /// A source URL, or its place on the mirror.
    public func url(_ original: String) -> String {
        guard let mirror else { return original }
        for scheme in ["https://", "http://"] where original.hasPrefix(scheme) {
            return mirror + "/" + original.dropFirst(scheme.count)
        }
        return original
    }

    /// Downloads one file unless it is already complete at `destination` (a file only gets its final
    /// name once verified, so its presence is enough).
    public func download(_ original: String, to destination: String, sha256: String? = nil, gitBlobID: String? = nil,
                         size: Int64? = nil, label: String) async throws {
        if FileSystem.fileSize(destination) != nil {
            if let size, FileSystem.fileSize(destination) != size {
                throw FetchError("\(destination) exists with a size other than the \(size) bytes of \(original); delete it and run again")
            }
            return
        }
        let progress = TransferProgress(label: label, enabled: showProgress)
        let downloader = FileDownloader(transport: transport, backoff: backoff, progress: progress)
        try await downloader.download(RemoteFile(url: url(original), destination: destination, partial: destination + ".incomplete",
                                                 expectedSize: size, sha256: sha256, gitBlobID: gitBlobID, label: destination),
                                      what: label)
        progress.finish()
    }

    /// A Hub dataset's files (those `include` accepts) into `folder`, as a `git clone` of it lays
    /// them out, resumable and skipped when already there (huggingface_hub's local-dir metadata).
    public func hubDataset(_ repo: String, include: [String] = [], into folder: String) async throws {
        let id = try RepoID(repo)
        let progress = TransferProgress(label: repo, enabled: showProgress)
        let client = HubClient(environment: environment, transport: transport, backoff: backoff)
        let downloader = SnapshotDownloader(client: client, concurrency: 8, progress: progress)
        _ = try await downloader.download(SnapshotRequest(repo: id, type: .dataset, filter: PathFilter(include: include),
                                                          localDirectory: folder))
    }

    /// Runs `body` once: a marker file in `folder` records that it completed.
    public func once(_ name: String, in folder: String, _ body: () async throws -> Void) async throws {
        let marker = folder + "/.svco-done-" + name
        if FileSystem.exists(marker) { return }
        try await body()
        try FileSystem.makeDirectories(folder)
        try FileSystem.writeAtomically(Array("done\n".utf8), to: marker)
    }
}

/// Copies a file through a temporary name (never a partial file under the final name).
func copyFile(_ source: String, to destination: String) throws {
    guard let data = FileManager.default.contents(atPath: source) else { throw FetchError("\(source): missing or unreadable") }
    try FileSystem.writeAtomically(Array(data), to: destination)
}
