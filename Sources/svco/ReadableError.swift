import ArgumentParser
import Datasets
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The top-level error formatter: Foundation's file errors (`CocoaError(code: …260, userInfo: …)`
/// when printed raw) become one line naming the file and the reason; every other error is printed
/// as its own message.
enum ReadableError {
    static func wrap(_ error: Error) -> Error {
        guard let cocoa = error as? CocoaError else { return error }
        return CLIError(describe(cocoa))
    }

    static func describe(_ error: CocoaError) -> String {
        let path = error.filePath ?? error.url?.path ?? "a file"
        if let posix = error.underlying as? POSIXError {
            return FileReadError(path: path, errno: posix.code.rawValue).description
        }
        let reason: String = switch error.code {
        case .fileNoSuchFile, .fileReadNoSuchFile: "no such file"
        case .fileReadNoPermission, .fileWriteNoPermission: "permission denied"
        case .fileWriteOutOfSpace: "no space left on the device"
        case .fileWriteFileExists: "already exists"
        case .fileReadCorruptFile: "unreadable contents"
        default: "cannot be read or written (Foundation error \(error.code.rawValue))"
        }
        return "\(path): \(reason)"
    }
}
