#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DecodingDiagnostics

/// Builds the image processor a model folder asks for.
public enum ImageProcessors {
    /// Reads `<directory>/preprocessor_config.json` (see ``ImageProcessor/init(from:)``).
    public static func load(directory: String) throws -> ImageProcessor {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("preprocessor_config.json").path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImageError.unreadable(file: path, reason: "\(error)")
        }
        return try load(json: data, name: path)
    }

    /// Parses a `preprocessor_config.json` already in memory; `name` is used in errors.
    public static func load(json data: Data, name: String) throws -> ImageProcessor {
        do {
            return try JSONDecoder().decode(ImageProcessor.self, from: data)
        } catch let unknown as ImageProcessor.UnknownType {
            guard let type = unknown.name else {
                throw ImageError.invalidConfig(file: name, field: "image_processor_type",
                                               reason: "missing (nor feature_extractor_type or processor_class present)")
            }
            throw ImageError.unknownProcessorType(file: name, type: type)
        } catch let error as DecodingError {
            let failure = DecodingFailure(error)
            throw ImageError.invalidConfig(file: name, field: failure.field.isEmpty ? "(document)" : failure.field, reason: failure.reason)
        }
    }
}
