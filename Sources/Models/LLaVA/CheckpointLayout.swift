/// The two key layouts LLaVA checkpoints occur in (SVCO-SPEC §8) and the mapping between them.
///
/// Published (transformers < 4.52 and the llava-hf releases): `vision_tower.…`,
/// `multi_modal_projector.…`, `language_model.model.…`, `language_model.lm_head.weight`.
/// In-memory names of transformers ≥ 4.52, which some versions also wrote to disk:
/// `model.vision_tower.…`, `model.multi_modal_projector.…`, `model.language_model.…`, `lm_head.weight`.
/// svco loads either (never a mix) and always saves the published one.
public enum CheckpointLayout: String, Sendable {
    case published
    case nested

    static let nestedPrefixes = ["model.vision_tower.", "model.multi_modal_projector.", "model.language_model."]
    static let publishedPrefixes = ["vision_tower.", "multi_modal_projector.", "language_model."]

    /// Which layout `keys` use; throws naming a key of each kind when they mix.
    public static func detect(_ keys: [String], source: String) throws -> CheckpointLayout {
        let nested = keys.first { k in k == "lm_head.weight" || nestedPrefixes.contains { k.hasPrefix($0) } }
        let published = keys.first { k in publishedPrefixes.contains { k.hasPrefix($0) } }
        switch (nested, published) {
        case (let n?, let p?):
            throw ConfigError(file: source, field: n,
                              reason: "the checkpoint mixes the nested layout ('\(n)') with the published one ('\(p)')")
        case (.some, nil): return .nested
        default: return .published
        }
    }

    /// The published name of a key in this layout (keys of neither layout pass through unchanged,
    /// so that strict loading reports them as unexpected).
    public func publishedName(_ key: String) -> String {
        guard self == .nested else { return key }
        if key == "lm_head.weight" { return "language_model.lm_head.weight" }
        if key.hasPrefix("model.language_model.") { return "language_model.model." + key.dropFirst("model.language_model.".count) }
        if key.hasPrefix("model.vision_tower.") { return String(key.dropFirst("model.".count)) }
        if key.hasPrefix("model.multi_modal_projector.") { return String(key.dropFirst("model.".count)) }
        return key
    }

    /// Renames every key to the published layout.
    public func sanitize<T>(_ tensors: [String: T]) -> [String: T] {
        guard self == .nested else { return tensors }
        var out: [String: T] = [:]
        for (k, v) in tensors { out[publishedName(k)] = v }
        return out
    }
}
