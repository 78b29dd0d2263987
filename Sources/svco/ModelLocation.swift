import Hub
#if canImport(Glibc)
import Glibc
#endif

/// The folder of `--model` / `--model-name-or-path` / `inspect MODEL`: the folder itself when it
/// exists, else a Hub repository id (`org/name`, optionally `@revision`) resolved through the
/// Hugging Face cache and downloaded when missing (see `ModelSource.resolve`).
func resolveModel(_ spec: String) throws -> String {
    if FileSystem.isDirectory(spec) { return spec }
    return try runBlocking { try await resolveModelAsync(spec) }
}

func resolveModelAsync(_ spec: String) async throws -> String {
    if FileSystem.isDirectory(spec) { return spec }
    let folder: String
    do {
        folder = try await ModelSource.resolve(spec, progress: TransferProgress(label: spec), log: { TransferProgress.writeStandardError($0 + "\n") })
    } catch let error as HubError {
        switch error {
        case .notFound, .unauthorized: throw CLIError("'\(spec)' is no folder, and as a Hub repository id: \(error)")
        default: throw error
        }
    }
    if folder == spec { return spec }  // not a repository id: the loader names the missing folder
    TransferProgress.writeStandardError("\(spec) → \(folder)\n")
    return folder
}
