#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Models

/// The token ids transformers' `generate` stops on and pads with for a model folder.
///
/// As `from_pretrained` sets `model.generation_config`: `generation_config.json` when the folder
/// has one (its values as written — a missing `eos_token_id` means no stop token), else
/// `GenerationConfig.from_model_config(config)`: `config.json`'s top-level values, with
/// `text_config`'s filling those left unset. `eos_token_id` is one id or a list; `generate` pads
/// finished rows with `pad_token_id`, or the first stop token when that is unset.
public struct GenerationDefaults: Sendable, Equatable {
    /// A row stops when it produces one of these.
    public var eosTokenIds: [Int]
    /// `pad_token_id` as configured (nil: unset).
    public var padTokenId: Int?
    /// Where the values came from, for messages.
    public var source: String

    public init(eosTokenIds: [Int], padTokenId: Int?, source: String) {
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
        self.source = source
    }

    /// The id `generate` fills finished rows with: `pad_token_id`, else the first stop token.
    public var fillTokenId: Int? { padTokenId ?? eosTokenIds.first }

    /// Reads `directory`'s generation_config.json, else its config.json (errors name file and field).
    public static func load(modelDirectory directory: String) throws -> GenerationDefaults {
        let generation = directory + "/generation_config.json"
        if FileManager.default.fileExists(atPath: generation) {
            let ids = try ConfigFile.decode(TokenIDs.self, path: generation)
            return GenerationDefaults(eosTokenIds: ids.eos?.values ?? [], padTokenId: ids.pad, source: generation)
        }
        let configPath = directory + "/config.json"
        let config = try ConfigFile.decode(ModelConfigIDs.self, path: configPath)
        return GenerationDefaults(eosTokenIds: (config.top.eos ?? config.text?.eos)?.values ?? [],
                                  padTokenId: config.top.pad ?? config.text?.pad, source: configPath)
    }
}

/// `eos_token_id` and `pad_token_id` of one config object (null = unset).
private struct TokenIDs: Decodable {
    var eos: IntOrList?
    var pad: Int?

    enum CodingKeys: String, CodingKey {
        case eos = "eos_token_id", pad = "pad_token_id"
    }
}

/// config.json's top level and its `text_config`.
private struct ModelConfigIDs: Decodable {
    var top: TokenIDs
    var text: TokenIDs?

    enum CodingKeys: String, CodingKey { case text = "text_config" }

    init(from decoder: Decoder) throws {
        top = try TokenIDs(from: decoder)
        text = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(TokenIDs.self, forKey: .text)
    }
}
