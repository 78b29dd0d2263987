import Foundation
import Testing
@testable import Evaluation

/// The readers on the public question files in `../shared/benchmarks` (present in CI, where a
/// missing folder fails these tests; elsewhere they are skipped with the trait's message).
@Suite(.enabled(if: TestSupport.runRealFileTests, "../shared/benchmarks not present (required when CI is set)"))
struct RealFileReaderTests {
    @Test func mmvp() throws {
        let root = try TestSupport.shared("MMVP")
        let questions = try MMVP(dataRoot: root).questions()
        #expect(questions.count == 300)
        #expect(Set(questions.compactMap { $0.extra["pair"] }).count == 150)
        #expect(questions[0].prompt == "Are the butterfly's wings closer to being open or closed? (a) Open (b) Closed\n"
            + "Answer with the option's letter from the given choices directly.")
        #expect(questions[0].answer == "(a)" && questions[1].answer == "(b)")
        #expect(questions[8].prompt.hasPrefix("Can you see the key \"Z\" in the image? (a) Yes (b) No\n"))
        #expect(questions[299].imagePaths == [root.appendingPathComponent("MMVP Images/300.jpg").path])
        #expect(questions.filter { $0.answer == "(a)" }.count == 150)

        let fixed = try MMVP(dataRoot: root, applyLabelFixes: true).questions()
        let changed = zip(questions, fixed).filter { $0.answer != $1.answer }.map { "\($1.id):\($0.answer)->\($1.answer)" }
        #expect(changed == ["99:(a)->(b)", "100:(b)->(a)", "279:(a)->(b)", "280:(b)->(a)"])
    }

    @Test func cvbench() throws {
        let root = try TestSupport.shared("cvbench")
        let questions = try CVBench(dataRoot: root).questions()
        #expect(questions.count == 2638)
        let bySource = Dictionary(grouping: questions, by: { $0.extra["source"] ?? "" }).mapValues(\.count)
        #expect(bySource == ["ADE20K": 633, "COCO": 805, "Omni3D": 1200])
        let byTask = Dictionary(grouping: questions, by: { $0.category ?? "" }).mapValues(\.count)
        #expect(byTask == ["Count": 788, "Relation": 650, "Depth": 600, "Distance": 600])
        #expect(questions[0].prompt == "How many organs are in the image? Select from the following choices.\n"
            + "(A) 3\n(B) 2\n(C) 1\n(D) 0\nAnswer with the option's letter from the given choices directly.")
        #expect(questions[0].answer == "(C)")
        #expect(questions[0].imagePaths == [root.appendingPathComponent("img/2D/count/ade20k_10.png").path])
        #expect(questions[2637].id == "2637" && questions[2637].answer == "(A)")
    }

    @Test func realWorldQA() throws {
        let questions = try RealWorldQA(dataRoot: try TestSupport.shared("realworldqa")).questions()
        #expect(questions.count == 765)
        #expect(questions.filter { $0.category == RealWorldQA.multipleChoiceCategory }.count == 438)
        #expect(questions.filter { $0.category == RealWorldQA.freeFormCategory }.count == 327)
        #expect(questions[1].prompt == "Is the closest red car to us closer than the closest semi truck?\n"
            + "Please answer directly with a single word or number.")
        #expect(questions[1].answer == "Yes" && questions[0].answer == "C")
        #expect(questions[0].imagePaths[0].hasSuffix("realworldqa/1.webp"))
    }

    @Test func scienceQA() throws {
        let root = try TestSupport.shared("scienceqa")
        let questions = try ScienceQA(dataRoot: root).questions()
        #expect(questions.count == 2017)
        var all = ScienceQA(dataRoot: root)
        all.imageSubsetOnly = false
        #expect(try all.questions().count == 4241)
        #expect(questions[0].id == "5" && questions[0].answer == "B")
        #expect(questions[0].prompt.hasPrefix("Context: People can use the engineering-design process"))
        #expect(questions[0].imagePaths == [root.appendingPathComponent("images/test/5/image.png").path])
        let last = try #require(questions.last)
        #expect(last.id == "21200" && last.answer == "A")
        #expect(last.prompt == "Context: A bulldozer clears a path for a new road. A force from the bulldozer pushes loose dirt out of the way.\n"
            + "What is the direction of this push?\nA. away from the bulldozer\nB. toward the bulldozer\n"
            + "Answer with the option's letter from the given choices directly.")
        #expect(!questions.contains { $0.prompt.contains("<image>") })
    }

    @Test func textVQA() throws {
        let root = try TestSupport.shared("textvqa")
        let questions = try TextVQA(dataRoot: root).questions()
        #expect(questions.count == 5000)
        #expect(Set(questions.map(\.id)).count == 5000)
        #expect(questions.allSatisfy { $0.referenceAnswers.count == 10 })
        let first = questions[0]
        #expect(first.id == "34602" && first.answer == "dakota" && first.extra["image_id"] == "003a8ae2ef43b901")
        #expect(first.prompt == "What is the brand of this camera?\nReference OCR token: DAKOTA, DIGITAL, Single-Use, Camera, Pire, digitat\n"
            + "Answer the question using a single word or phrase.")
        #expect(first.imagePaths == [root.appendingPathComponent("train_images/003a8ae2ef43b901.jpg").path])
        // Last question: "unanswerable" and "live" both score 0.9; the first in file order wins.
        #expect(questions[4999].id == "39601" && questions[4999].answer == "unanswerable")
    }

    @Test func mmVet() throws {
        let questions = try MMVet(dataRoot: try TestSupport.shared("mm-vet")).questions()
        #expect(questions.count == 218)
        #expect(questions.map(\.id) == (0..<218).map { "v1_\($0)" })
        #expect(questions[0].answer == "-1<AND>-5" && questions[0].category == "ocr,math")
        #expect(questions[2].imagePaths[0].hasSuffix("mm-vet/images/v1_1.png"))
        #expect(questions[0].prompt == "What is x in the equation?")
    }

    @Test func llavaBench() throws {
        let questions = try LLaVABench(dataRoot: try TestSupport.shared("llava-bench-in-the-wild")).questions()
        #expect(questions.count == 60)
        let byCategory = Dictionary(grouping: questions, by: { $0.category ?? "" }).mapValues(\.count)
        #expect(byCategory == ["conv": 17, "detail": 15, "complex": 28])
        #expect(questions[0].prompt == "What is the name of this famous sight in the photo?")
        #expect(questions[0].answer == "The famous sight in the photo is Diamond Head.")
        #expect(questions[0].extra["caption"] == "An aerial view of Diamond Head in the Hawaiian Islands.")
        #expect(questions[0].imagePaths[0].hasSuffix("llava-bench-in-the-wild/images/001.jpg"))
    }

    @Test func mmhal() throws {
        let questions = try MMHalBench(dataRoot: try TestSupport.shared("mmhal-bench")).questions()
        #expect(questions.count == 96)
        let byType = Dictionary(grouping: questions, by: { $0.category ?? "" }).mapValues(\.count)
        #expect(byType.count == 8 && byType.values.allSatisfy { $0 == 12 })
        #expect(questions[0].id == "df62a56fdc1bb12b" && questions[0].category == "attribute")
        #expect(questions[0].prompt == "What color is the fire hydrant cap in the picture?")
        #expect(questions[0].answer == "The color of the fire hydrant cap in the image is yellow.")
        #expect(questions[0].extra["image_content"] == "Fire hydrant" && questions[0].extra["question_topic"] == "outdoor")
        #expect(questions[0].imagePaths[0].hasSuffix("mmhal-bench/images/df62a56fdc1bb12b.jpg"))
    }

    @Test func factoryCoversEveryBenchmark() throws {
        let folders: [BenchmarkName: String] = [
            .mmvp: "MMVP", .cvbench: "cvbench", .realworldqa: "realworldqa", .textvqa: "textvqa",
            .scienceqa: "scienceqa", .mmvet: "mm-vet", .llavabench: "llava-bench-in-the-wild", .mmhal: "mmhal-bench",
        ]
        let expected: [BenchmarkName: Int] = [
            .mmvp: 300, .cvbench: 2638, .realworldqa: 765, .textvqa: 5000, .scienceqa: 2017, .mmvet: 218, .llavabench: 60, .mmhal: 96,
        ]
        for name in BenchmarkName.allCases {
            let benchmark = name.makeBenchmark(dataRoot: try TestSupport.shared(folders[name] ?? ""))
            #expect(try benchmark.questions().count == expected[name], "\(name)")
            #expect((benchmark is any RuleGradedBenchmark) == name.isRuleGraded, "\(name)")
        }
    }
}
