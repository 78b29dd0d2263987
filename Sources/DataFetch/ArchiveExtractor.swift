import CArchive
import Hub
#if canImport(Glibc)
import Glibc
#endif

/// A problem while preparing a dataset, naming the file or URL.
public struct FetchError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Unpacks zip and tar(.gz/.bz2/.xz/.zst) archives through libarchive (which checks zip CRCs and
/// gzip trailers as it reads). Each file is written under a temporary name and renamed, entries
/// that would land outside the destination (absolute paths, `..`) are refused, and links and
/// devices are skipped. A marker file records a complete extraction, so a rerun skips it.
public enum ArchiveExtractor {
    /// Extracts `archive` into `destination`. `map` turns an entry's path into the path to write
    /// (relative to `destination`), or nil to skip it; by default every entry is kept as is.
    /// Returns the number of files written (0 when the marker says it was done before).
    @discardableResult
    public static func extract(_ archive: String, into destination: String, marker: String? = nil,
                               map: (String) -> String? = { $0 }, log: (String) -> Void = { _ in }) throws -> Int {
        let markerPath = destination + "/" + (marker ?? ".svco-extracted-" + basename(archive))
        if FileSystem.exists(markerPath) { return 0 }
        try FileSystem.makeDirectories(destination)
        if let problem = svco_archive_load() { throw FetchError("\(archive): \(String(cString: problem))") }
        guard let reader = svco_archive_read_new() else { throw FetchError("\(archive): cannot start libarchive") }
        defer { svco_archive_free(reader) }
        _ = svco_archive_support_all(reader)
        guard svco_archive_open(reader, archive) == ARCHIVE_OK else {
            throw FetchError("\(archive): cannot open as an archive: \(errorText(reader))")
        }
        var entry: OpaquePointer?
        var written = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let status = svco_archive_next(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw FetchError("\(archive): corrupt archive: \(errorText(reader))")
            }
            guard let rawName = svco_archive_entry_path(entry) else { continue }
            let name = String(cString: rawName)
            guard let mapped = map(name) else { continue }
            guard let relative = safeRelativePath(mapped) else {
                throw FetchError("\(archive): entry '\(name)' would be written outside \(destination); refusing the archive")
            }
            if relative.isEmpty { continue }
            let target = destination + "/" + relative
            let type = svco_archive_entry_type(entry)
            if type == 0o040000 {  // AE_IFDIR
                try FileSystem.makeDirectories(target)
                continue
            }
            guard type == 0o100000 else { continue }  // AE_IFREG;  // links, devices: not in these datasets
            try FileSystem.makeDirectories(FileSystem.parent(target))
            let temporary = FileSystem.parent(target) + "/.svco-partial-" + basename(target)
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FetchError("\(target): cannot write: \(FileSystem.errnoText())") }
            var failure: Error?
            while failure == nil {
                let n = buffer.withUnsafeMutableBytes { svco_archive_read(reader, $0.baseAddress, $0.count) }
                if n == 0 { break }
                if n < 0 {
                    failure = FetchError("\(archive): corrupt entry '\(name)': \(errorText(reader))")
                    break
                }
                var offset = 0
                while offset < n {
                    let w = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, n - offset) }
                    if w < 0 {
                        if errno == EINTR { continue }
                        failure = (errno == ENOSPC || errno == EDQUOT)
                            ? HubError.diskFull(path: target, needed: nil)
                            : FetchError("\(target): cannot write: \(FileSystem.errnoText())")
                        break
                    }
                    offset += w
                }
            }
            close(fd)
            if let failure {
                unlink(temporary)
                throw failure
            }
            guard rename(temporary, target) == 0 else {
                let reason = FileSystem.errnoText()
                unlink(temporary)
                throw FetchError("\(target): cannot rename into place: \(reason)")
            }
            written += 1
            if written % 5000 == 0 { log("  \(written) files extracted from \(basename(archive))") }
        }
        try FileSystem.writeAtomically(Array("\(written) files\n".utf8), to: markerPath)
        return written
    }

    /// `path` with `.` segments dropped, or nil when it is absolute or climbs out with `..`.
    static func safeRelativePath(_ path: String) -> String? {
        if path.hasPrefix("/") { return nil }
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { return nil }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    static func errorText(_ reader: OpaquePointer) -> String {
        guard let text = svco_archive_error_text(reader) else { return "unknown libarchive error" }
        return String(cString: text)
    }
}

func basename(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}
