#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// MM-Vet (Yu et al., 2023): 218 open questions graded later by a GPT judge against reference
/// answers (which may hold `<AND>` / `<OR>` alternatives, kept verbatim).
///
/// Release layout: `mm-vet.json` (an object keyed `v1_0` … with `imagename, question, answer,
/// capability`) and `images/<imagename>`. The prompt is the question as published (LLaVA's MM-Vet
/// run adds nothing). Questions come in id order (`v1_2` before `v1_10`), the file's own order.
/// `category` is the capability list joined with "," (MM-Vet scores both single capabilities and
/// their combinations).
public struct MMVet: Benchmark {
    public static let name = "mmvet"

    public var dataRoot: URL
    public var questionFile = "mm-vet.json"
    public var imageFolder = "images"

    public init(dataRoot: URL) { self.dataRoot = dataRoot }

    private struct Entry: Decodable {
        let imagename: String?
        let question: String?
        let answer: String?
        let capability: [String]?
        let imagesource: String?
    }

    public func questions() throws -> [BenchmarkQuestion] {
        let url = dataRoot.appendingPathComponent(questionFile)
        let images = dataRoot.appendingPathComponent(imageFolder)
        let entries = try JSONRecords.decodeDocument([String: Entry].self, from: url)
        if entries.isEmpty { throw EvaluationError.emptyFile(file: url.path) }
        return try entries.keys.sorted(by: Self.idOrder).map { id in
            let check = FieldChecks(file: url.path, location: "entry '\(id)'")
            guard let entry = entries[id] else { throw EvaluationError.missingField(file: url.path, location: "document", field: id) }
            let capabilities = try check.value(entry.capability, "capability")
            guard !capabilities.isEmpty else { throw check.invalid("capability", "is empty") }
            var extra = ["capabilities": capabilities.joined(separator: ",")]
            if let source = entry.imagesource { extra["image_source"] = source }
            return BenchmarkQuestion(
                id: id, prompt: try check.text(entry.question, "question"),
                imagePaths: [resolve(try check.text(entry.imagename, "imagename"), in: images)],
                answer: try check.text(entry.answer, "answer"),
                category: capabilities.joined(separator: ","), extra: extra)
        }
    }

    /// `v1_2` < `v1_10`: compare the text before the last "_", then the number after it.
    static func idOrder(_ a: String, _ b: String) -> Bool {
        func parts(_ s: String) -> (String, Int?) {
            guard let cut = s.lastIndex(of: "_") else { return (s, nil) }
            return (String(s[..<cut]), Int(s[s.index(after: cut)...]))
        }
        let (pa, na) = parts(a), (pb, nb) = parts(b)
        if pa != pb { return pa < pb }
        switch (na, nb) {
        case let (x?, y?) where x != y: return x < y
        default: return a < b
        }
    }
}
