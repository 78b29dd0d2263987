#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a model lives: a folder, or a Hub repository id resolved to its snapshot folder in the
/// Hugging Face cache (downloaded when missing), as transformers' `from_pretrained` accepts both.
public enum ModelSource {
    /// Weight formats svco does not read; a model snapshot leaves them out (`*.safetensors` stays).
    public static let unusedWeightPatterns = ["*.bin", "*.pt", "*.pth", "*.h5", "*.msgpack", "*.onnx", "*.ot", "*.gguf",
                                              "*.tflite", "*.mlmodel", "*.onnx_data", "*.ckpt"]

    /// `spec` itself when it is an existing folder or cannot be a repository id; else `org/name[@revision]` resolved through the
    /// cache: offline (`HF_HUB_OFFLINE=1`) from `refs/` only, online by downloading what is missing,
    /// and from the cache when the Hub cannot be reached.
    public static func resolve(_ spec: String, environment: HubEnvironment = .current(), progress: TransferProgress? = nil,
                               log: @Sendable (String) -> Void = { _ in }) async throws -> String {
        if FileSystem.isDirectory(spec) { return spec }
        let looksLikePath = spec.hasPrefix("/") || spec.hasPrefix(".") || spec.hasPrefix("~") || spec.split(separator: "/").count > 2
        var idText = spec
        var revision = "main"
        if let at = spec.lastIndex(of: "@"), !looksLikePath {
            idText = String(spec[..<at])
            revision = String(spec[spec.index(after: at)...])
        }
        // Not a repository id: the caller's loader reports the missing folder as it always has.
        guard !looksLikePath, let repo = try? RepoID(idText), idText.contains("/"), !revision.isEmpty else { return spec }
        let cache = HubCacheRepo(cacheDirectory: environment.cacheDirectory, repo: repo, type: .model)
        func cachedSnapshot() -> String? {
            guard let commit = cache.cachedCommit(revision: revision) else { return nil }
            let folder = cache.snapshotFolder(commit: commit)
            return FileSystem.exists(folder + "/config.json") ? folder : nil
        }
        if environment.offline {
            guard let folder = cachedSnapshot() else {
                throw HubError.offlineMissing(repo: repo.value, file: "config.json (revision '\(revision)')", cache: environment.cacheDirectory)
            }
            return folder
        }
        let transport = HTTPTransport()
        do {
            let client = HubClient(environment: environment, transport: transport)
            let downloader = SnapshotDownloader(client: client, progress: progress)
            let folder = try await downloader.download(
                SnapshotRequest(repo: repo, revision: revision, filter: PathFilter(exclude: unusedWeightPatterns)))
            await transport.shutdown()
            return folder
        } catch let error as HubError {
            await transport.shutdown()
            if case .connection = error, let folder = cachedSnapshot() {
                log("warning: the Hub cannot be reached (\(error)); using the cached snapshot \(folder)")
                return folder
            }
            throw error
        } catch {
            await transport.shutdown()
            throw error
        }
    }
}
