/// Field validation shared by the readers: each failure names file, record and field.
struct FieldChecks {
    let file: String
    let location: String

    /// A present, non-blank string.
    func text(_ value: String?, _ field: String) throws -> String {
        guard let value else { throw EvaluationError.missingField(file: file, location: location, field: field) }
        guard !PythonText.strip(value).isEmpty else {
            throw EvaluationError.invalidField(file: file, location: location, field: field, reason: "is empty")
        }
        return value
    }

    /// A present value of any type.
    func value<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw EvaluationError.missingField(file: file, location: location, field: field) }
        return value
    }

    func invalid(_ field: String, _ reason: String) -> EvaluationError {
        .invalidField(file: file, location: location, field: field, reason: reason)
    }
}

/// Records ids seen so far and rejects repeats.
struct UniqueIDs {
    private var seen = Set<String>()
    mutating func insert(_ id: String, file: String, location: String) throws {
        guard seen.insert(id).inserted else {
            throw EvaluationError.duplicateID(file: file, location: location, id: id)
        }
    }
}
