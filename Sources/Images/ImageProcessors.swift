#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Builds the image processor a model folder asks for.
public enum ImageProcessors {
    /// Reads `<directory>/preprocessor_config.json` and returns the processor named by
    /// `image_processor_type` (or the older `feature_extractor_type`, or `processor_class`).
    /// "Fast" variants map to the same processor: its output follows the PIL-based one.
    public static func load(directory: String) throws -> any ImageProcessor {
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
    public static func load(json data: Data, name: String) throws -> any ImageProcessor {
        struct Header: Decodable {
            var imageProcessorType: String?
            var featureExtractorType: String?
            var processorClass: String?
            enum CodingKeys: String, CodingKey {
                case imageProcessorType = "image_processor_type"
                case featureExtractorType = "feature_extractor_type"
                case processorClass = "processor_class"
            }
        }
        let header = try decode(Header.self, data, name)
        guard let type = header.imageProcessorType ?? header.featureExtractorType ?? header.processorClass else {
            throw ImageError.invalidConfig(
                file: name, field: "image_processor_type",
                reason: "missing (nor feature_extractor_type or processor_class present)")
        }
        switch type {
        case "CLIPImageProcessor", "CLIPImageProcessorFast", "CLIPFeatureExtractor", "CLIPProcessor":
            return try decode(CLIPImageProcessor.self, data, name)
        case "SiglipImageProcessor", "SiglipImageProcessorFast", "SiglipProcessor":
            return try decode(SiglipImageProcessor.self, data, name)
        default:
            throw ImageError.unknownProcessorType(file: name, type: type)
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data, _ name: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            let (path, reason): ([CodingKey], String)
            switch error {
            case let .typeMismatch(_, ctx), let .valueNotFound(_, ctx), let .dataCorrupted(ctx):
                (path, reason) = (ctx.codingPath, ctx.debugDescription)
            case let .keyNotFound(key, ctx):
                (path, reason) = (ctx.codingPath + [key], "missing")
            @unknown default:
                (path, reason) = ([], "\(error)")
            }
            let field = path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            throw ImageError.invalidConfig(file: name, field: field.isEmpty ? "(document)" : field, reason: reason)
        }
    }
}
