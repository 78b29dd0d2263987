#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Tokenizers

/// Which image and which response a sequence pairs (SVCO-SPEC §2).
public enum SequenceKind: String, CaseIterable, Sendable {
    case cc, rc, cr, rr, nc, nr

    public enum ImageChoice: Sendable { case chosen, rejected, none }

    public var image: ImageChoice {
        switch self {
        case .cc, .cr: .chosen
        case .rc, .rr: .rejected
        case .nc, .nr: .none
        }
    }

    public var usesChosenResponse: Bool { self == .cc || self == .rc || self == .nc }
}

/// One tokenised sequence before image expansion: each image is ONE placeholder token here.
public struct TokenizedSequence: Sendable, Equatable {
    public var ids: [Int]
    /// -100 outside the scored response.
    public var labels: [Int]
    /// Image files in placeholder order (possibly fewer than the record's if truncation cut placeholders).
    public var images: [String]
    /// Whether truncation shortened the sequence / removed every scored label.
    public var truncated: Bool
    public var responseLost: Bool
}

/// Turns MVC records into the six tokenised sequences the S-VCO reference scores, from a model
/// folder's tokenizer and chat template.
public struct SixSequenceCollator: Sendable {
    /// The two model families, named as the reference's `--model_family_id`.
    public enum Family: String, Sendable, CaseIterable {
        case llava15 = "llava-1.5"
        case interleave = "llava-interleave"
    }

    public let tokenizer: Tokenizer
    public let template: ChatTemplate
    public let family: Family
    public let imageTokenID: Int
    public let maxLength: Int
    /// Special-token variables the template sees (bos_token, eos_token, …), as HF passes them.
    let variables: [String: JinjaValue]

    /// - Parameters:
    ///   - template: the chat template; it must mark the assistant text with `{% generation %}`.
    ///     `svcoTrainingTemplate(for:)` gives the reference's templates for both families.
    public init(tokenizer: Tokenizer, template: ChatTemplate, family: Family, imageToken: String = "<image>",
                maxLength: Int = 128) throws {
        guard let id = tokenizer.tokenToID(imageToken) else {
            throw DatasetError(file: "tokenizer", reason: "the image token '\(imageToken)' is not in the vocabulary")
        }
        self.tokenizer = tokenizer
        self.template = template
        self.family = family
        self.imageTokenID = id
        self.maxLength = maxLength
        variables = tokenizer.templateVariables
    }

    /// The reference's training template for a family (generation tags around the answer).
    public static func svcoTrainingTemplate(for family: Family) throws -> ChatTemplate {
        switch family {
        case .llava15: try ChatTemplate.svcoLLaVA15Training()
        case .interleave: try ChatTemplate.svcoLLaVAInterleaveTraining()
        }
    }

    /// The chat messages of one sequence: [system], user = instruction + one image part per image,
    /// assistant = response.
    public func messages(_ record: MVCRecord, _ kind: SequenceKind) -> [JinjaValue] {
        var out: [JinjaValue] = []
        if !record.systemPrompt.isEmpty {
            out.append(["role": "system", "content": .list([["type": "text", "text": .string(record.systemPrompt)]])])
        }
        let images: [String] = switch kind.image {
        case .chosen: record.chosenImages
        case .rejected: record.rejectedImages
        case .none: []
        }
        var user: [JinjaValue] = [["type": "text", "text": .string(record.instructionPrompt)]]
        user += images.map { _ in ["type": "image"] }
        out.append(["role": "user", "content": .list(user)])
        let response = kind.usesChosenResponse ? record.chosenResponse : record.rejectedResponse
        out.append(["role": "assistant", "content": .list([["type": "text", "text": .string(response)]])])
        return out
    }

    /// One sequence: template → ids with offsets → labels from the generation spans, the family's
    /// final-token rule, then truncation to `maxLength` (an image placeholder counts as one token).
    public func sequence(_ record: MVCRecord, _ kind: SequenceKind) throws -> TokenizedSequence {
        let rendered = try template.render(messages: messages(record, kind), addGenerationPrompt: false, variables: variables)
        let encoding = tokenizer.encode(rendered.text, addSpecialTokens: true)
        var ids = encoding.ids
        let mask = assistantTokenMask(offsets: encoding.offsets, spans: rendered.generationSpans, tokenCount: ids.count)
        var labels = zip(ids, mask).map { $1 == 1 ? $0 : -100 }
        // LLaVA-1.5's tokenizer appends EOS (add_eos_token=True) and the reference scores it.
        if family == .llava15, let last = ids.indices.last { labels[last] = ids[last] }
        let images: [String] = switch kind.image {
        case .chosen: record.chosenImages
        case .rejected: record.rejectedImages
        case .none: []
        }
        var truncated = false
        if ids.count > maxLength {
            ids = Array(ids.prefix(maxLength))
            labels = Array(labels.prefix(maxLength))
            truncated = true
        }
        let kept = ids.lazy.filter { $0 == self.imageTokenID }.count
        return TokenizedSequence(ids: ids, labels: labels, images: Array(images.prefix(kept)), truncated: truncated,
                                 responseLost: !labels.contains { $0 != -100 })
    }

    /// All six sequences of a record, in the order cc, rc, cr, rr, nc, nr.
    public func sequences(_ record: MVCRecord) throws -> [TokenizedSequence] {
        try SequenceKind.allCases.map { try sequence(record, $0) }
    }
}
