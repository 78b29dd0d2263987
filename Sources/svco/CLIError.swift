/// A run-time failure of a command, printed as "Error: <message>" without the usage text
/// (ValidationError is for bad flags, found before the command runs).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
