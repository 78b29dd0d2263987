#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What `svco download` asks for.
public struct SnapshotRequest: Sendable {
    public var repo: RepoID
    public var type: RepoType
    public var revision: String
    public var filter: PathFilter
    /// Files go to this folder (as `huggingface-cli download --local-dir`) instead of the cache.
    public var localDirectory: String?

    public init(repo: RepoID, type: RepoType = .model, revision: String = "main", filter: PathFilter = PathFilter(),
                localDirectory: String? = nil) {
        self.repo = repo
        self.type = type
        self.revision = revision
        self.filter = filter
        self.localDirectory = localDirectory
    }
}

/// Downloads a repository snapshot (or the files of it that the filter accepts) into the
/// Hugging Face cache, or into a local folder, several files at once, as huggingface_hub's
/// `snapshot_download` does: files already in the snapshot are not asked for again.
public struct SnapshotDownloader: Sendable {
    public let client: HubClient
    public var concurrency: Int
    public var progress: TransferProgress?

    public init(client: HubClient, concurrency: Int = 8, progress: TransferProgress? = nil) {
        self.client = client
        self.concurrency = max(1, concurrency)
        self.progress = progress
    }

    var environment: HubEnvironment { client.environment }

    /// Returns the snapshot folder (`…/snapshots/<commit>`) or the local folder.
    public func download(_ request: SnapshotRequest) async throws -> String {
        let cache = HubCacheRepo(cacheDirectory: environment.cacheDirectory, repo: request.repo, type: request.type)
        if environment.offline { return try offlineSnapshot(request, cache: cache) }

        let info = try await client.revisionInfo(repo: request.repo, type: request.type, revision: request.revision)
        let files = info.files.filter { request.filter.accepts($0) }
        if request.localDirectory == nil { try cache.writeRef(revision: request.revision, commit: info.commit) }
        let downloader = FileDownloader(transport: client.transport, backoff: client.backoff, progress: progress)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() {
                guard next < files.count else { return }
                let file = files[next]
                next += 1
                group.addTask {
                    if let local = request.localDirectory {
                        try await fetchToLocalDirectory(file, request: request, commit: info.commit, folder: local, downloader: downloader)
                    } else {
                        try await fetchToCache(file, request: request, commit: info.commit, cache: cache, downloader: downloader)
                    }
                }
            }
            for _ in 0..<concurrency { startNext() }
            while try await group.next() != nil { startNext() }
        }
        progress?.finish()
        if let local = request.localDirectory { return FileSystem.absolute(local) }
        let folder = cache.snapshotFolder(commit: info.commit)
        try FileSystem.makeDirectories(folder)
        return folder
    }

    /// One file into the cache: HEAD for its ETag, the blob downloaded unless present, the snapshot link.
    func fetchToCache(_ file: String, request: SnapshotRequest, commit: String, cache: HubCacheRepo,
                      downloader: FileDownloader) async throws {
        let pointer = cache.snapshotPath(commit: commit, file: file)
        if FileSystem.exists(pointer) { return }  // follows the link: the blob is there
        let meta = try await client.fileMetadata(repo: request.repo, type: request.type, revision: commit, path: file)
        let blob = cache.blobPath(etag: meta.etag)
        if FileSystem.fileSize(blob) != meta.size {
            let lock = try FileLock(path: cache.lockPath(etag: meta.etag))
            defer { lock.release() }
            try await lock.acquire()
            if FileSystem.fileSize(blob) != meta.size {
                try await downloader.download(remote(meta, file: file, request: request, destination: blob, partial: blob + ".incomplete"),
                                              authorization: authorization(for: meta), what: "\(file) of \(request.repo)")
            }
        }
        try cache.link(commit: commit, file: file, etag: meta.etag)
    }

    /// One file into a plain folder, with huggingface_hub's `.cache/huggingface/download/<file>.metadata`
    /// (commit, ETag, time) so that either tool skips it next time.
    func fetchToLocalDirectory(_ file: String, request: SnapshotRequest, commit: String, folder: String,
                               downloader: FileDownloader) async throws {
        let target = folder + "/" + file
        let metadataFolder = folder + "/.cache/huggingface"
        let metadata = metadataFolder + "/download/" + file + ".metadata"
        let meta = try await client.fileMetadata(repo: request.repo, type: request.type, revision: commit, path: file)
        if FileSystem.fileSize(target) == meta.size, let saved = FileManager.default.contents(atPath: metadata) {
            let lines = String(decoding: saved, as: UTF8.self).split(separator: "\n")
            if lines.count >= 2 && lines[1] == meta.etag { return }
        }
        try FileSystem.makeDirectories(metadataFolder + "/download")
        if !FileSystem.exists(metadataFolder + "/.gitignore") {
            try FileSystem.writeAtomically(Array("*".utf8), to: metadataFolder + "/.gitignore")
        }
        let lock = try FileLock(path: metadataFolder + "/download/" + file + ".lock")
        defer { lock.release() }
        try await lock.acquire()
        let partial = metadataFolder + "/download/" + file + "." + meta.etag + ".incomplete"
        try await downloader.download(remote(meta, file: file, request: request, destination: target, partial: partial),
                                      authorization: authorization(for: meta), what: "\(file) of \(request.repo)")
        let stamp = "\(commit)\n\(meta.etag)\n\(Double(time(nil)))\n"
        try FileSystem.writeAtomically(Array(stamp.utf8), to: metadata)
    }

    /// The token goes with a download only when the bytes come from the Hub itself; a CDN location
    /// (another host) never sees it, as in huggingface_hub.
    func authorization(for meta: FileMetadata) -> String? {
        HTTPTransport.host(of: meta.location) == HTTPTransport.host(of: environment.endpoint) ? client.authorization : nil
    }

    func remote(_ meta: FileMetadata, file: String, request: SnapshotRequest, destination: String, partial: String) -> RemoteFile {
        // LFS files are named by their sha256; other files by their git blob id: both are checked.
        let sha256 = meta.isLFS && meta.etag.count == 64 && meta.etag.allSatisfy(\.isHexDigit) ? meta.etag : nil
        let blobID = !meta.isLFS && meta.etag.count == 40 && meta.etag.allSatisfy(\.isHexDigit) ? meta.etag : nil
        return RemoteFile(url: meta.location, destination: destination, partial: partial, expectedSize: meta.size, sha256: sha256,
                          gitBlobID: blobID, label: "\(request.repo)/\(file)")
    }

    /// `HF_HUB_OFFLINE`: the revision's commit from `refs/`, its snapshot folder, nothing else.
    func offlineSnapshot(_ request: SnapshotRequest, cache: HubCacheRepo) throws -> String {
        if let local = request.localDirectory {
            guard FileSystem.isDirectory(local) else {
                throw HubError.offlineMissing(repo: request.repo.value, file: "any file", cache: local)
            }
            return FileSystem.absolute(local)
        }
        guard let commit = cache.cachedCommit(revision: request.revision), FileSystem.isDirectory(cache.snapshotFolder(commit: commit)) else {
            throw HubError.offlineMissing(repo: request.repo.value, file: "revision '\(request.revision)'", cache: environment.cacheDirectory)
        }
        return cache.snapshotFolder(commit: commit)
    }

    /// Offline lookup of one file (huggingface_hub's `try_to_load_from_cache`).
    public static func cachedFile(environment: HubEnvironment, repo: RepoID, type: RepoType, revision: String, file: String) -> String? {
        let cache = HubCacheRepo(cacheDirectory: environment.cacheDirectory, repo: repo, type: type)
        guard let commit = cache.cachedCommit(revision: revision) else { return nil }
        let path = cache.snapshotPath(commit: commit, file: file)
        return FileSystem.exists(path) ? path : nil
    }
}

/// An exclusive `flock` on a lock file, the lock huggingface_hub's `filelock` takes on the same path,
/// so two downloads of one blob (svco or Python) never write it at once.
final class FileLock: @unchecked Sendable {
    private var fd: Int32

    init(path: String) throws {
        try FileSystem.makeDirectories(FileSystem.parent(path))
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HubError.io(path: path, reason: "cannot open the lock file: \(FileSystem.errnoText())") }
    }

    /// Waits (without blocking a thread) until the lock is ours.
    func acquire() async throws {
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { return }  // no locking on this file system: go on
            try await pause(seconds: 0.2)
        }
    }

    func release() {
        if fd >= 0 { flock(fd, LOCK_UN); close(fd); fd = -1 }
    }

    deinit { release() }
}
