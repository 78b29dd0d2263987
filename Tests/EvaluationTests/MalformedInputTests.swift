import Foundation
import Testing
@testable import Evaluation

/// Broken release files give errors that name the file, the line/record and the field.
struct MalformedInputTests {
    static let cvLine = #"{"idx": 0, "type": "2D", "task": "Count", "image": "2D/count/a.png", "prompt": "How many?\n(A) 1\n(B) 2", "choices": ["1", "2"], "answer": "(B)", "source": "COCO"}"#

    @Test func cvbenchErrors() throws {
        func message(_ second: String) throws -> String? {
            let root = try TestSupport.folder(["cvbench_test.jsonl": Self.cvLine + "\n" + second + "\n"])
            return TestSupport.errorMessage { _ = try CVBench(dataRoot: root).questions() }
        }
        let unknown = try message(Self.cvLine.replacingOccurrences(of: "\"COCO\"", with: "\"KITTI\"").replacingOccurrences(of: "\"idx\": 0", with: "\"idx\": 1"))
        #expect(unknown?.contains("cvbench_test.jsonl: line 2: field 'source': unknown value 'KITTI'") == true)
        let missing = try message(#"{"idx": 1, "type": "2D", "task": "Count", "image": "x.png", "choices": ["1"], "answer": "(A)", "source": "COCO"}"#)
        #expect(missing?.hasSuffix("line 2: missing field 'prompt'") == true)
        let badAnswer = try message(Self.cvLine.replacingOccurrences(of: "(B)", with: "(C)").replacingOccurrences(of: "\"idx\": 0", with: "\"idx\": 1"))
        #expect(badAnswer?.contains("line 2: field 'answer': '(C)' is not one of the 2 choices") == true)
        let syntax = try message("{\"idx\": 1,")
        #expect(syntax?.contains("line 2: malformed") == true)
        let wrongType = try message(Self.cvLine.replacingOccurrences(of: "\"idx\": 0", with: "\"idx\": \"one\""))
        #expect(wrongType?.contains("line 2: field 'idx'") == true)
        let duplicate = try message(Self.cvLine)
        #expect(duplicate?.contains("line 2: duplicate id '0'") == true)
    }

    @Test func mmvpErrors() throws {
        func message(_ csv: String) throws -> String? {
            let root = try TestSupport.folder(["Questions.csv": csv])
            return TestSupport.errorMessage { _ = try MMVP(dataRoot: root).questions() }
        }
        let header = "Index,Question,Options,Correct Answer\n"
        #expect(try message(header + "1,Q?,(a) X (b) Y,(c)\n2,Q?,(a) X (b) Y,(b)\n")?
            .contains("Questions.csv: line 2: field 'Correct Answer': option (c) is not among") == true)
        #expect(try message(header + "1,Q?,(a) X (b) Y,(a)\n3,Q?,(a) X (b) Y,(b)\n")?
            .contains("line 3: field 'Index': expected 2, found '3'") == true)
        #expect(try message(header + "1,Q?,(a) X (b) Y,(a)\n")?.contains("cannot form pairs") == true)
        #expect(try message("Index,Question,Choices,Correct Answer\n1,Q,(a) X,(a)\n2,Q,(a) X,(a)\n")?
            .contains("line 1 (header): missing field 'Options'") == true)
        #expect(try message(header + "1,\"Q?,(a) X (b) Y,(a)\n")?.contains("unterminated quoted field") == true)
        #expect(try message(header + "1,Q?,(a) X (b) Y\n")?.contains("line 2: malformed: 3 fields, header has 4") == true)
    }

    @Test func missingFileNamesThePath() throws {
        let root = try TestSupport.folder([:])
        let text = TestSupport.errorMessage { _ = try RealWorldQA(dataRoot: root).questions() }
        #expect(text == root.appendingPathComponent("llava_test_realworldqa.jsonl").path + ": cannot read: no such file")
    }

    @Test func realWorldQAMultipleChoiceNeedsALetter() throws {
        let line = #"{"question_id": "7", "image": "7.webp", "text": "Which?\nA. x\nB. y\nPlease answer directly with only the letter of the correct option and nothing else.", "answer": "Left"}"#
        let root = try TestSupport.folder(["llava_test_realworldqa.jsonl": line])
        #expect(TestSupport.errorMessage { _ = try RealWorldQA(dataRoot: root).questions() }?
            .hasSuffix("line 1: field 'answer': 'Left' is not an option letter") == true)
    }

    @Test func scienceQAErrors() throws {
        let json = #"[{"id": "1", "image": "1/image.png", "conversations": [{"from": "human", "value": "<image>\nQ?\nA. x"}, {"from": "gpt", "value": "AB"}]}]"#
        let root = try TestSupport.folder(["llava_test_CQM-A.json": json])
        #expect(TestSupport.errorMessage { _ = try ScienceQA(dataRoot: root).questions() }?
            .hasSuffix("record 1: field 'conversations.1.value': 'AB' is not an option letter") == true)
        let noTurns = try TestSupport.folder(["llava_test_CQM-A.json": #"[{"id": "1", "image": "i.png"}]"#])
        #expect(TestSupport.errorMessage { _ = try ScienceQA(dataRoot: noTurns).questions() }?
            .hasSuffix("record 1: missing field 'conversations'") == true)
        let wrongType = try TestSupport.folder(["llava_test_CQM-A.json": #"[{"id": "1", "image": 3, "conversations": []}]"#])
        #expect(TestSupport.errorMessage { _ = try ScienceQA(dataRoot: wrongType).questions() }?
            .contains("record 1: field 'image'") == true)
    }

    @Test func textVQAJoinErrors() throws {
        let annotation = #"{"data": [{"question_id": 5, "image_id": "img1", "question": "what is it?", "answers": ["a","b","c","d","e","f","g","h","i","j"]}]}"#
        let good = #"{"question_id": "img1", "image": "img1.jpg", "text": "What is it?\nReference OCR token: X\nAnswer the question using a single word or phrase."}"#
        let other = #"{"question_id": "img2", "image": "img2.jpg", "text": "What is it?\nReference OCR token: X\nAnswer the question using a single word or phrase."}"#
        let root = try TestSupport.folder(["TextVQA_0.5.1_val.json": annotation, "llava_textvqa_val_v051_ocr.jsonl": good + "\n" + other])
        let text = TestSupport.errorMessage { _ = try TextVQA(dataRoot: root).questions() }
        #expect(text?.contains("llava_textvqa_val_v051_ocr.jsonl: line 2: no entry for 'img2: What is it?'") == true)

        let nine = annotation.replacingOccurrences(of: #","j""#, with: "")
        let root9 = try TestSupport.folder(["TextVQA_0.5.1_val.json": nine, "llava_textvqa_val_v051_ocr.jsonl": good])
        #expect(TestSupport.errorMessage { _ = try TextVQA(dataRoot: root9).questions() }?
            .hasSuffix("data record 1: field 'answers': has 9 answers, expected 10") == true)
        let okRoot = try TestSupport.folder(["TextVQA_0.5.1_val.json": annotation, "llava_textvqa_val_v051_ocr.jsonl": good])
        let questions = try TextVQA(dataRoot: okRoot).questions()
        #expect(questions.map(\.id) == ["5"] && questions[0].answer == "a")
    }

    @Test func judgedBenchmarkErrors() throws {
        let root = try TestSupport.folder([
            "questions.jsonl": #"{"image": "001.jpg", "text": "Q?", "category": "poetry", "question_id": 0}"#,
            "answers_gpt4.jsonl": #"{"question_id": 0, "text": "A."}"#,
            "context.jsonl": #"{"image": "001.jpg", "caption": "C."}"#,
        ])
        #expect(TestSupport.errorMessage { _ = try LLaVABench(dataRoot: root).questions() }?
            .hasSuffix("questions.jsonl: line 1: field 'category': unknown value 'poetry'") == true)
        let mmhal = try TestSupport.folder(["mmhal-bench_answer_template.json": #"[{"question_type": "color", "question_topic": "t", "image_id": "i", "image_content": [], "question": "Q", "gt_answer": "A"}]"#])
        #expect(TestSupport.errorMessage { _ = try MMHalBench(dataRoot: mmhal).questions() }?
            .hasSuffix("record 1: field 'question_type': unknown value 'color'") == true)
        let vet = try TestSupport.folder(["mm-vet.json": #"{"v1_0": {"imagename": "a.png", "question": "Q", "capability": ["ocr"]}}"#])
        #expect(TestSupport.errorMessage { _ = try MMVet(dataRoot: vet).questions() }?
            .hasSuffix("entry 'v1_0': missing field 'answer'") == true)
    }

    @Test func mmVetIDOrder() {
        #expect(["v1_10", "v1_2", "v1_0", "v2_1"].sorted(by: MMVet.idOrder) == ["v1_0", "v1_2", "v1_10", "v2_1"])
    }
}
