#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One minimal visual contrast pair (SVCO-SPEC §1): two images that differ in one detail, each with
/// the text that is true for it.
public struct MVCRecord: Codable, Sendable, Equatable {
    public var systemPrompt: String
    public var instructionPrompt: String
    public var chosenImages: [String]
    public var rejectedImages: [String]
    public var chosenResponse: String
    public var rejectedResponse: String

    enum CodingKeys: String, CodingKey {
        case systemPrompt = "system_prompt"
        case instructionPrompt = "instruction_prompt"
        case chosenImages = "chosen_images"
        case rejectedImages = "rejected_images"
        case chosenResponse = "chosen_response"
        case rejectedResponse = "rejected_response"
    }

    public init(systemPrompt: String = "", instructionPrompt: String, chosenImages: [String], rejectedImages: [String],
                chosenResponse: String, rejectedResponse: String) {
        self.systemPrompt = systemPrompt
        self.instructionPrompt = instructionPrompt
        self.chosenImages = chosenImages
        self.rejectedImages = rejectedImages
        self.chosenResponse = chosenResponse
        self.rejectedResponse = rejectedResponse
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        systemPrompt = try c.decodeIfPresent(String.self, forKey: .systemPrompt) ?? ""
        instructionPrompt = try c.decode(String.self, forKey: .instructionPrompt)
        chosenImages = try c.decode([String].self, forKey: .chosenImages)
        rejectedImages = try c.decode([String].self, forKey: .rejectedImages)
        chosenResponse = try c.decode(String.self, forKey: .chosenResponse)
        rejectedResponse = try c.decode(String.self, forKey: .rejectedResponse)
        if chosenImages.isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .chosenImages, in: c, debugDescription: "needs at least one image")
        }
        if rejectedImages.count != chosenImages.count {
            throw DecodingError.dataCorruptedError(
                forKey: .rejectedImages, in: c,
                debugDescription: "has \(rejectedImages.count) image(s) but chosen_images has \(chosenImages.count)")
        }
    }
}

/// A dataset problem, naming the file, the record and the key.
public struct DatasetError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let file: String
    public let record: Int?
    public let key: String?
    public let reason: String

    public init(file: String, record: Int? = nil, key: String? = nil, reason: String) {
        self.file = file
        self.record = record
        self.key = key
        self.reason = reason
    }

    public var description: String {
        var s = file
        if let record { s += ": record \(record)" }
        if let key { s += ": key '\(key)'" }
        return s + ": " + reason
    }
    public var errorDescription: String? { description }
}
