#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Problems with a model's inputs that come from data (prompts, images), not from svco.
public enum ModelInputError: Error, CustomStringConvertible, LocalizedError, Sendable {
    case imageCountMismatch(row: Int?, imageTokens: Int, images: Int)
    case sequenceTooLong(length: Int, limit: Int)

    public var description: String {
        switch self {
        case .imageCountMismatch(let row, let tokens, let images):
            "\(row.map { "row \($0): " } ?? "")the text has \(tokens) image placeholder token(s) but \(images) image(s) were given"
        case .sequenceTooLong(let length, let limit):
            "sequence of \(length) tokens exceeds the model's limit of \(limit)"
        }
    }
    public var errorDescription: String? { description }
}
