import ArgumentParser
import Hub

/// `svco download REPO_ID`: a Hub repository into the Hugging Face cache (or a folder), as
/// `huggingface-cli download` does; the last line printed is the snapshot folder.
struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download a Hugging Face Hub repository into the HF cache and print its snapshot folder.",
        discussion: """
            The cache is huggingface_hub's (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub), so \
            transformers and svco share it. HF_ENDPOINT names another Hub, HF_TOKEN (or the token saved by \
            `huggingface-cli login`) is sent to the Hub only, never to the CDN it redirects to; HF_HUB_OFFLINE=1 \
            answers from the cache alone. Large files resume after a dropped connection and are checked against \
            the Hub's sha256 before they take their final name.
            """)

    @Argument(help: "The repository id, org/name.") var repoId: String
    @Option(help: "model or dataset.") var repoType = "model"
    @Option(help: "Branch, tag or commit.") var revision = "main"
    @Option(help: "Only files matching this glob (repeatable; fnmatch rules: * also matches /).") var include: [String] = []
    @Option(help: "Leave out files matching this glob (repeatable).") var exclude: [String] = []
    @Option(help: "Put the files in this folder instead of the cache.") var localDir: String?
    @Option(help: "Files downloaded at once.") var maxWorkers = 8
    @Flag(help: "No progress bar.") var quiet = false

    func validate() throws {
        guard RepoType(rawValue: repoType) == .model || RepoType(rawValue: repoType) == .dataset else {
            throw ValidationError("--repo-type must be model or dataset, not '\(repoType)'")
        }
        guard maxWorkers >= 1 else { throw ValidationError("--max-workers must be at least 1") }
        do { _ = try RepoID(repoId) } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
        let environment = HubEnvironment.current()
        let transport = HTTPTransport()
        let progress = TransferProgress(label: repoId, enabled: !quiet)
        let downloader = SnapshotDownloader(client: HubClient(environment: environment, transport: transport),
                                            concurrency: maxWorkers, progress: progress)
        let request = SnapshotRequest(repo: try RepoID(repoId), type: RepoType(rawValue: repoType) ?? .model, revision: revision,
                                      filter: PathFilter(include: include, exclude: exclude), localDirectory: localDir)
        let folder: String
        do {
            folder = try await downloader.download(request)
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
        print(folder)
    }
}
