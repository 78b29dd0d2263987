#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Everything that can go wrong while reading an image or a processor configuration.
/// Every message names the file it is about.
public enum ImageError: LocalizedError, Sendable, Equatable {
    /// The file could not be read from disk.
    case unreadable(file: String, reason: String)
    /// The bytes are not JPEG, PNG or WebP (the detected container is named when known).
    case unsupportedFormat(file: String, detail: String)
    /// The codec rejected the data (truncated, corrupt, inconsistent header ...).
    case corrupt(file: String, format: String, reason: String)
    /// The file decodes but holds a pixel layout this module cannot turn into RGB like Pillow.
    case unsupportedMode(file: String, detail: String)
    /// A field of a processor configuration is missing, mistyped or out of range.
    case invalidConfig(file: String, field: String, reason: String)
    /// `image_processor_type` / `processor_class` names a processor this module does not have.
    case unknownProcessorType(file: String, type: String)
    /// Images of one batch came out of the processor in different sizes (it does not resize).
    case inconsistentSizes(file: String, shape: [Int], expected: [Int])

    public var errorDescription: String? {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read the file (\(reason))"
        case let .unsupportedFormat(file, detail):
            return "\(file): unsupported image format (\(detail)); JPEG, PNG and WebP are supported"
        case let .corrupt(file, format, reason):
            return "\(file): invalid \(format) data: \(reason)"
        case let .unsupportedMode(file, detail):
            return "\(file): unsupported pixel layout: \(detail)"
        case let .invalidConfig(file, field, reason):
            return "\(file): field '\(field)': \(reason)"
        case let .unknownProcessorType(file, type):
            return "\(file): unknown image processor type '\(type)' (known: CLIPImageProcessor, SiglipImageProcessor)"
        case let .inconsistentSizes(file, shape, expected):
            return "\(file): preprocessed to \(shape) but the batch's other images are \(expected) (the processor does not resize)"
        }
    }
}
