#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// One repository's folder in the Hugging Face cache, laid out as huggingface_hub lays it out and
/// reads it:
///
///     <cache>/models--org--name/
///         blobs/<etag>                  file contents, named by ETag (the sha256 for LFS files,
///                                       the git blob id for others); `<etag>.incomplete` while
///                                       downloading
///         refs/<revision>               the commit a branch or tag pointed to (no newline)
///         snapshots/<commit>/<path>     relative symlinks into ../blobs
///         .no_exist/<commit>/<path>     empty: the file was asked for and is not in that commit
///     <cache>/.locks/models--org--name/<etag>.lock
public struct HubCacheRepo: Sendable {
    public let cacheDirectory: String
    public let repo: RepoID
    public let type: RepoType

    public init(cacheDirectory: String, repo: RepoID, type: RepoType) {
        self.cacheDirectory = cacheDirectory
        self.repo = repo
        self.type = type
    }

    public var folder: String { cacheDirectory + "/" + repo.cacheFolderName(type) }
    public func blobPath(etag: String) -> String { folder + "/blobs/" + etag }
    public func snapshotFolder(commit: String) -> String { folder + "/snapshots/" + commit }
    public func snapshotPath(commit: String, file: String) -> String { snapshotFolder(commit: commit) + "/" + file }
    public func lockPath(etag: String) -> String { cacheDirectory + "/.locks/" + repo.cacheFolderName(type) + "/" + etag + ".lock" }

    /// The commit a revision resolves to in the cache: the revision itself when it is a commit hash,
    /// else the content of `refs/<revision>`.
    public func cachedCommit(revision: String) -> String? {
        if isCommitHash(revision) { return revision }
        guard let data = FileManager.default.contents(atPath: folder + "/refs/" + revision) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmed()
        return text.isEmpty ? nil : text
    }

    /// Records which commit a branch or tag points to (nothing for a commit hash), atomically.
    public func writeRef(revision: String, commit: String) throws {
        guard !isCommitHash(revision) || revision != commit else { return }
        let path = folder + "/refs/" + revision
        if cachedCommit(revision: revision) == commit { return }
        try FileSystem.makeDirectories(FileSystem.parent(path))
        try FileSystem.writeAtomically(Array(commit.utf8), to: path)
    }

    /// Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative link, as huggingface_hub
    /// does (`os.path.relpath(blob, dirname(pointer))`), replacing whatever was there.
    public func link(commit: String, file: String, etag: String) throws {
        let pointer = snapshotPath(commit: commit, file: file)
        let parent = FileSystem.parent(pointer)
        try FileSystem.makeDirectories(parent)
        let target = FileSystem.relativePath(from: parent, to: blobPath(etag: etag))
        let temporary = pointer + ".svco-link-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        unlink(temporary)
        guard symlink(target, temporary) == 0 else {
            throw HubError.io(path: pointer, reason: "cannot create a symbolic link: \(FileSystem.errnoText())")
        }
        guard rename(temporary, pointer) == 0 else {
            let reason = FileSystem.errnoText()
            unlink(temporary)
            throw HubError.io(path: pointer, reason: "cannot create a symbolic link: \(reason)")
        }
    }

    /// Marks a file as absent from a commit (huggingface_hub reads this to answer offline).
    public func markMissing(commit: String, file: String) {
        let path = folder + "/.no_exist/" + commit + "/" + file
        try? FileSystem.makeDirectories(FileSystem.parent(path))
        _ = FileManager.default.createFile(atPath: path, contents: Data())
    }

    public func isMarkedMissing(commit: String, file: String) -> Bool {
        FileManager.default.fileExists(atPath: folder + "/.no_exist/" + commit + "/" + file)
    }
}

/// Small file-system helpers on POSIX calls (atomic writes, relative paths, free space).
public enum FileSystem {
    public static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    public static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Size of a regular file (following links), or nil.
    public static func fileSize(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    public static func makeDirectories(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw HubError.io(path: path, reason: "cannot create the folder: \(error)")
        }
    }

    /// Bytes free for this user on the file system holding `path`.
    public static func freeBytes(_ path: String) -> Int64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// The relative path from folder `from` to `to` (both absolute or both relative to the same place).
    public static func relativePath(from: String, to: String) -> String {
        let a = absolute(from).split(separator: "/").map(String.init)
        let b = absolute(to).split(separator: "/").map(String.init)
        var common = 0
        while common < a.count && common < b.count && a[common] == b[common] { common += 1 }
        let ups = [String](repeating: "..", count: a.count - common)
        let rest = (ups + b[common...]).joined(separator: "/")
        return rest.isEmpty ? "." : rest
    }

    /// `path` made absolute against the working folder, with `.` and `..` components resolved
    /// lexically (as Python's os.path.abspath).
    public static func absolute(_ path: String) -> String {
        var full = path
        if !path.hasPrefix("/") {
            full = FileManager.default.currentDirectoryPath + "/" + path
        }
        var parts: [Substring] = []
        for part in full.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so no
    /// reader sees a partial file.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        // Unique per call: two tasks of one process may write the same file (a local dir's .gitignore).
        let temporary = path + ".tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HubError.io(path: path, reason: "cannot write: \(errnoText())") }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return true
        }
        let code = errno
        close(fd)
        guard ok else {
            unlink(temporary)
            if code == ENOSPC || code == EDQUOT { throw HubError.diskFull(path: path, needed: Int64(bytes.count)) }
            throw HubError.io(path: path, reason: "cannot write: \(errnoText(code))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw HubError.io(path: path, reason: "cannot rename into place: \(reason)")
        }
    }
}
