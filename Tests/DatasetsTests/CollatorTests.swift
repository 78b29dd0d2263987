import Foundation
import Testing
@testable import Datasets
@testable import Tokenizers

/// The six-sequence collator against the S-VCO reference collator's output on the bundled demo
/// model (demo/expected.json, made by demo/make_demo_assets.py with transformers 4.57.1).
@Suite struct CollatorTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let model = root + "/demo/tiny-llava"

    struct Expected: Decodable {
        struct Sequence: Decodable {
            var text: String
            var generation_spans: [[Int]]
            var images: [String]
            var input_ids: [Int]
            var labels: [Int]
        }
        struct Case: Decodable {
            var record: MVCRecord
            var sequences: [String: Sequence]
        }
        var max_length: Int
        var records: [Case]
    }

    static func collator(template: ChatTemplate? = nil, maxLength: Int = 128) throws -> SixSequenceCollator {
        let tokenizer = try Tokenizer(directory: model, addEOS: true)
        let t = try template ?? ChatTemplate.load(modelDirectory: URL(fileURLWithPath: model))
        return try SixSequenceCollator(tokenizer: tokenizer, template: t, family: .llava15, maxLength: maxLength)
    }

    @Test(arguments: ["folder", "svco"])
    func sixSequencesMatchTheReferenceCollator(_ templateSource: String) throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: Self.root + "/demo/expected.json")))
        // The model folder's template and svco's built-in LLaVA-1.5 training template must agree.
        let template = templateSource == "svco" ? try SixSequenceCollator.svcoTrainingTemplate(for: .llava15) : nil
        let collator = try Self.collator(template: template, maxLength: expected.max_length)
        #expect(expected.records.count >= 2)
        for c in expected.records {
            for kind in SequenceKind.allCases {
                guard let want = c.sequences[kind.rawValue] else {
                    Issue.record("expected.json lacks \(kind)")
                    continue
                }
                let got = try collator.sequence(c.record, kind)
                #expect(got.ids == want.input_ids, "\(kind): ids")
                #expect(got.labels == want.labels, "\(kind): labels")
                #expect(got.images == want.images, "\(kind): images")
                let rendered = try collator.template.render(messages: collator.messages(c.record, kind), addGenerationPrompt: false)
                #expect(rendered.text == want.text)
                #expect(rendered.generationSpans.map { [$0.lowerBound, $0.upperBound] } == want.generation_spans)
            }
        }
    }

    @Test func truncationCountsThePlaceholderAsOneToken() throws {
        let record = MVCRecord(instructionPrompt: String(repeating: "Where is the square? ", count: 20),
                               chosenImages: ["a.png"], rejectedImages: ["b.png"],
                               chosenResponse: "The square is on the left.", rejectedResponse: "The square is on the right.")
        let collator = try Self.collator(maxLength: 24)
        let s = try collator.sequence(record, .cc)
        #expect(s.ids.count == 24 && s.truncated && s.responseLost)
        #expect(s.ids.filter { $0 == collator.imageTokenID }.count == 1 && s.images == ["a.png"])
        let n = try collator.sequence(record, .nc)
        #expect(n.images.isEmpty && !n.ids.contains(collator.imageTokenID))
    }
}

@Suite struct DatasetFileTests {
    func write(_ json: String) throws -> String {
        let dir = NSTemporaryDirectory() + "svco-data-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/mvc.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    let good = #"{"instruction_prompt": "Q?", "chosen_images": ["img/a.png"], "rejected_images": ["img/b.png"], "chosen_response": "A", "rejected_response": "B", "extra": 1}"#

    @Test func resolvesPathsAndIgnoresExtraKeys() throws {
        let path = try write("[\(good)]")
        let dataset = try MVCDataset(file: path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(dataset.records[0].chosenImages == [folder + "/img/a.png"])
        #expect(dataset.records[0].systemPrompt == "")
        let rooted = try MVCDataset(file: path, imageRoot: "/data/root")
        #expect(rooted.records[0].rejectedImages == ["/data/root/img/b.png"])
    }

    @Test(arguments: [
        (#"[{"instruction_prompt": "Q", "chosen_images": ["a"], "rejected_images": ["b"], "chosen_response": "A"}]"#, "record 0: key 'rejected_response': is missing"),
        (#"[{"instruction_prompt": 3, "chosen_images": ["a"], "rejected_images": ["b"], "chosen_response": "A", "rejected_response": "B"}]"#, "record 0: key 'instruction_prompt': expected a string"),
        (#"[{"instruction_prompt": "Q", "chosen_images": [], "rejected_images": [], "chosen_response": "A", "rejected_response": "B"}]"#, "record 0: key 'chosen_images': needs at least one image"),
        (#"[{"instruction_prompt": "Q", "chosen_images": ["a"], "rejected_images": ["b", "c"], "chosen_response": "A", "rejected_response": "B"}]"#, "key 'rejected_images': has 2 image(s)"),
        (#"[{"instruction_prompt": "Q", "chosen_images": ["../../etc/x.png"], "rejected_images": ["b"], "chosen_response": "A", "rejected_response": "B"}]"#, "record 0: key 'chosen_images': image path '../../etc/x.png' leads outside the image root"),
        (#"{"a": 1}"#, "must be a JSON array of records"),
        (#"[{"#, "is not valid JSON"),
    ])
    func malformedRecordsNameRecordAndKey(json: String, phrase: String) throws {
        let path = try write(json)
        #expect { try MVCDataset(file: path) } throws: { error in
            let message = "\(error)"
            return message.hasPrefix(path) && message.contains(phrase)
        }
    }

    @Test func secondRecordIsNamed() throws {
        let path = try write("[\(good), {\"instruction_prompt\": \"Q\"}]")
        #expect { try MVCDataset(file: path) } throws: { "\($0)".contains("record 1: key 'chosen_images': is missing") }
    }

    @Test func splitIsSeededAndComplete() {
        let records = (0..<10).map { MVCRecord(instructionPrompt: "q\($0)", chosenImages: ["a"], rejectedImages: ["b"], chosenResponse: "A", rejectedResponse: "B") }
        let a = MVCDataset.split(records, validationCount: 3, seed: 42)
        let b = MVCDataset.split(records, validationCount: 3, seed: 42)
        #expect(a.validation == b.validation && a.train == b.train)
        #expect(a.validation.count == 3 && a.train.count == 7)
        #expect(Set((a.train + a.validation).map(\.instructionPrompt)) == Set(records.map(\.instructionPrompt)))
        #expect(MVCDataset.split(records, validationCount: 3, seed: 7).validation != a.validation)
    }
}
