/// A `DecodingError` read once: what went wrong, at which field, and the decoder's own detail.
///
/// Every module that reads JSON files turns decoding failures into its own error type (naming
/// the file); they all read the error through this type, so the switch over `DecodingError`'s
/// cases and the spelling of field paths (`text_config.rope_scaling.type`, `layers[3].name`) are
/// written once. Kept in a target without libtorch so the text and image modules can use it.
public struct DecodingFailure {
    /// What kind of problem the decoder met.
    public enum Kind: Sendable, Equatable {
        /// A required key is absent (`DecodingError.keyNotFound`).
        case missing
        /// A value is `null` where one is required (`valueNotFound`).
        case null
        /// A value has another JSON type than expected (`typeMismatch`).
        case wrongType
        /// The text is not JSON, or a value was rejected by a type's own check (`dataCorrupted`).
        case invalid
    }

    /// One step of a coding path: an object key or an array position (0-based).
    public enum Component: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public let kind: Kind
    /// From the document's root down to the faulty value; for `.missing`, the absent key is the
    /// last component.
    public let path: [Component]
    /// The decoder's (or the throwing type's) description.
    public let detail: String
    /// The error a type's own `init(from:)` attached, if any (a module may prefer its own error).
    public let underlyingError: (any Error)?
    /// The type the decoder wanted, for `.null` and `.wrongType`.
    public let expectedType: Any.Type?

    /// Reads `error`.
    public init(_ error: DecodingError) {
        let context: DecodingError.Context
        switch error {
        case let .keyNotFound(key, ctx):
            kind = .missing
            path = Self.components(ctx.codingPath + [key])
            detail = ctx.debugDescription
            underlyingError = ctx.underlyingError
            expectedType = nil
            return
        case let .valueNotFound(type, ctx):
            (kind, context, expectedType) = (.null, ctx, type)
        case let .typeMismatch(type, ctx):
            (kind, context, expectedType) = (.wrongType, ctx, type)
        case let .dataCorrupted(ctx):
            (kind, context, expectedType) = (.invalid, ctx, nil)
        @unknown default:
            kind = .invalid
            path = []
            detail = "\(error)"
            underlyingError = nil
            expectedType = nil
            return
        }
        path = Self.components(context.codingPath)
        detail = context.debugDescription
        underlyingError = context.underlyingError
    }

    /// The whole path as text: keys joined by dots, array positions in brackets
    /// (`vision_config.layers[3].name`); empty for the document itself.
    public var field: String { Self.spell(path[...]) }

    /// `path` spelled as `field` is, from `start` on (e.g. the part inside a record).
    public func field(from start: Int) -> String { Self.spell(path.dropFirst(start)) }

    /// The failure as a clause to follow the field's name (or the file's, for the document):
    /// "is required", "is null", "has the wrong type (…)", "is not valid JSON (…)", or the
    /// description a type's own check gave.
    public var reason: String {
        switch kind {
        case .missing: return "is required"
        case .null: return "is null"
        case .wrongType: return "has the wrong type (\(detail))"
        // At the root, only the parser itself reports corrupt data.
        case .invalid where path.isEmpty: return "is not valid JSON (\(detail))"
        case .invalid: return detail
        }
    }

    /// Array positions are keys with an `intValue` whose text is not that number ("Index 3", as
    /// JSONDecoder names them); a dictionary key such as "32000" also has an `intValue` but stays
    /// a key.
    /// A coding path spelled as `field` spells one (`text_config.rope_scaling.factor`), for a module's
    /// own checks in `init(from:)` that name the field they reject.
    public static func field(_ codingPath: [any CodingKey]) -> String { spell(components(codingPath)[...]) }

    static func components(_ path: [any CodingKey]) -> [Component] {
        path.map { key in
            if let i = key.intValue, key.stringValue != String(i) { return .index(i) }
            return .key(key.stringValue)
        }
    }

    static func spell(_ path: ArraySlice<Component>) -> String {
        var text = ""
        for component in path {
            switch component {
            case let .key(name): text += text.isEmpty ? name : "." + name
            case let .index(i): text += "[\(i)]"
            }
        }
        return text
    }
}

extension DecodingFailure {
    /// Reads `error` if it is a `DecodingError`; nil otherwise.
    public init?(_ error: any Error) {
        guard let decoding = error as? DecodingError else { return nil }
        self.init(decoding)
    }
}
