#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A run-time failure of a command, printed as "Error: <message>" without the usage text
/// (ValidationError is for bad flags, found before the command runs).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Writes `line` to stderr (notes and warnings, kept out of a command's output on stdout).
func printError(_ line: String) {
    fflush(nil)  // what stdout holds first, so the two streams keep their order on a terminal
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        offset += n
    }
}
