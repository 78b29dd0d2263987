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

/// The top-level error formatter: Foundation's file errors — thrown directly, or printed into another
/// error's message as `CocoaError(code: …260, userInfo: [… POSIXErrorCode.ENOENT …])` — become the
/// file and one readable reason. Every other error is printed as its own message.
enum ReadableError {
    static func wrap(_ error: Error) -> Error {
        if let cocoa = error as? CocoaError { return CLIError(describe(cocoa)) }
        let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
        guard message.contains(marker) else { return error }
        return CLIError(cleaned(message))
    }

    static let marker = "CocoaError("

    static func describe(_ error: CocoaError) -> String {
        let path = error.filePath ?? error.url?.path ?? "a file"
        if let posix = error.underlying as? POSIXError {
            return FileReadError(path: path, errno: posix.code.rawValue).description
        }
        return "\(path): " + reason(code: error.code.rawValue)
    }

    static func reason(code: Int) -> String {
        switch CocoaError.Code(rawValue: code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: "no such file"
        case .fileReadNoPermission, .fileWriteNoPermission: "permission denied"
        case .fileWriteOutOfSpace: "no space left on the device"
        case .fileWriteFileExists: "already exists"
        default: "cannot be read or written (Foundation error \(code))"
        }
    }

    /// Replaces each printed `CocoaError(…)` in `message` by its reason (the message already names the file).
    static func cleaned(_ message: String) -> String {
        var text = message
        while let start = text.firstRange(of: marker)?.lowerBound {
            var depth = 0
            var end = text.endIndex
            for i in text[start...].indices {
                if text[i] == "(" { depth += 1 }
                if text[i] == ")" {
                    depth -= 1
                    if depth == 0 {
                        end = text.index(after: i)
                        break
                    }
                }
            }
            text.replaceSubrange(start..<end, with: reason(dump: String(text[start..<end])))
        }
        return text
    }

    /// The reason a printed CocoaError gives: its POSIX error if it carries one, else its code.
    static func reason(dump: String) -> String {
        if let range = dump.firstRange(of: "POSIXErrorCode.") {
            let name = String(dump[range.upperBound...].prefix { $0.isLetter || $0.isNumber })
            let codes: [String: Int32] = ["ENOENT": ENOENT, "EISDIR": EISDIR, "ENOTDIR": ENOTDIR, "EACCES": EACCES,
                                          "EPERM": EPERM, "ENOSPC": ENOSPC, "EROFS": EROFS, "ELOOP": ELOOP]
            if let code = codes[name] { return FileReadError(path: "", errno: code).reason }
            return "cannot be read (\(name))"
        }
        if let range = dump.firstRange(of: "rawValue: ") {
            let digits = dump[range.upperBound...].prefix { $0.isNumber }
            if let code = Int(digits) { return reason(code: code) }
        }
        return "cannot be read"
    }
}
