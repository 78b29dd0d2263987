import Foundation
import Images
import Testing

/// `svco eval` end to end for the rule-graded benchmarks other than MMVP (EvalCLITests has that one):
/// a tiny release folder in each benchmark's published layout and image format (PNG drawn here,
/// JPEG/WebP from Fixtures/eval-images, made by Fixtures/make_eval_images.py), answered by the
/// bundled demo model. Every output file is checked; the scores are recomputed here from the
/// responses in the jsonl with the paper's rules written out again (never by calling the graders).
///
/// A random tiny model rarely answers right, so each benchmark runs twice: the second release
/// folder takes some correct answers from the first run's responses (same prompts and images, so
/// the same responses), which makes the recomputed scores non-trivial.
@Suite(.serialized) struct EvalEndToEndTests {
    typealias Row = [String: String]

    // MARK: CV-Bench

    struct CVRecord {
        let idx: Int, task: String, source: String, image: String, question: String, choices: [String]
        var answer: String
        var type: String { source == "Omni3D" ? "3D" : "2D" }
        var prompt: String {
            let letters = ["A", "B", "C", "D", "E", "F"]
            return question + " Select from the following choices.\n"
                + zip(letters, choices).map { "(\($0)) \($1)" }.joined(separator: "\n")
        }
    }

    static let cvRecords = [
        CVRecord(idx: 0, task: "Count", source: "ADE20K", image: "2D/count/ade20k_10.png",
                 question: "How many organs are in the image?", choices: ["3", "2", "1", "0"], answer: "(C)"),
        CVRecord(idx: 1, task: "Count", source: "COCO", image: "2D/count/coco_5.png",
                 question: "How many dogs are in the image?", choices: ["2", "0", "1", "3", "4"], answer: "(A)"),
        CVRecord(idx: 2, task: "Relation", source: "ADE20K", image: "2D/relation/ade20k_7.png",
                 question: "Considering the relative positions of the lamp and the bed, where is the lamp located with respect to the bed?",
                 choices: ["left", "right"], answer: "(B)"),
        CVRecord(idx: 3, task: "Relation", source: "COCO", image: "2D/relation/coco_3.png",
                 question: "Where is the cup located with respect to the plate?", choices: ["above", "below"], answer: "(A)"),
        CVRecord(idx: 4, task: "Depth", source: "Omni3D", image: "3D/depth/omni3d_hypersim_0.jpg",
                 question: "Which is closer to the camera, the chair (highlighted by a red box) or the table (highlighted by a blue box)?",
                 choices: ["chair", "table"], answer: "(A)"),
        CVRecord(idx: 5, task: "Distance", source: "Omni3D", image: "3D/distance/omni3d_nuscenes_1.jpg",
                 question: "Estimate the real-world distances between objects in this image. Which object is closer to the car (highlighted by a red box), the truck (highlighted by a blue box) or the bus (highlighted by a green box)?",
                 choices: ["truck", "bus"], answer: "(B)"),
    ]

    /// `cvbench_test.jsonl` (the release's fields, extras included) and `img/<image>`: 2D images are
    /// PNG, 3D ones JPEG, as in the release.
    static func makeCVBench(_ root: String, _ records: [CVRecord]) throws {
        var lines: [String] = []
        for (i, r) in records.enumerated() {
            lines.append(try json([
                "idx": r.idx, "type": r.type, "task": r.task, "image": r.image, "question": r.question, "choices": r.choices,
                "answer": r.answer, "prompt": r.prompt, "source": r.source, "source_dataset": r.source + " Validation Set",
                "source_filename": "x_\(r.idx).jpg", "target_class": NSNull(), "target_size": NSNull(), "bbox": NSNull(),
            ]))
            if r.image.hasSuffix(".png") {
                try png(root + "/img/" + r.image, seed: i)
            } else {
                try fixtureImage("scene\(i % 4 + 1).jpg", to: root + "/img/" + r.image)
            }
        }
        try write(lines.joined(separator: "\n") + "\n", to: root + "/cvbench_test.jsonl")
    }

    @Test func cvBench() throws {
        let data = try Self.temporaryFolder("cvbench")
        try Self.makeCVBench(data, Self.cvRecords)
        let rows = try Self.eval("cvbench", data: data, out: data + "/out")
        try #require(rows.count == 6)
        #expect(rows.map { $0["id"] } == ["0", "1", "2", "3", "4", "5"])
        #expect(rows[0]["prompt"] == """
            How many organs are in the image? Select from the following choices.
            (A) 3
            (B) 2
            (C) 1
            (D) 0
            Answer with the option's letter from the given choices directly.
            """)
        #expect(rows.map { $0["category"] } == Self.cvRecords.map(\.task))
        #expect(rows.map { $0["answer"] } == Self.cvRecords.map(\.answer))
        try Self.checkScores("cvbench", out: data + "/out", expected: Self.cvScores(rows, Self.cvRecords))

        // The letter model on the same folder, then on a second folder whose answers are right for
        // rows 0, 2, 4 and wrong for 1, 3, 5: ADE20K 2/2, COCO 0/2, Omni3D 1/2, each task 1/2.
        let letters = try Self.letterModel()
        let first = try Self.eval("cvbench", data: data, out: data + "/letters", model: letters)
        try Self.checkScores("cvbench", out: data + "/letters", expected: Self.cvScores(first, Self.cvRecords))
        var fixed = Self.cvRecords
        for (i, answer) in try Self.alternating(first, format: { "(\($0.uppercased()))" }).enumerated() { fixed[i].answer = answer }
        let data2 = try Self.temporaryFolder("cvbench2")
        try Self.makeCVBench(data2, fixed)
        let rows2 = try Self.eval("cvbench", data: data2, out: data2 + "/out", model: letters)
        #expect(rows2.map { $0["response"] } == first.map { $0["response"] })
        let expected = Self.cvScores(rows2, fixed)
        #expect(expected == ["accuracy": 0.5, "questions": 6, "accuracy_ade20k": 1, "accuracy_coco": 0, "accuracy_omni3d": 0.5,
                             "accuracy_2d": 0.5, "accuracy_3d": 0.5, "accuracy_combined": 0.5, "accuracy_count": 0.5,
                             "accuracy_relation": 0.5, "accuracy_depth": 1, "accuracy_distance": 0])
        try Self.checkScores("cvbench", out: data2 + "/out", expected: expected)

        // --limit keeps the first N questions; scores cover only those (no Omni3D: no 3D keys).
        let limited = try Self.eval("cvbench", data: data2, out: data2 + "/limited", ["--limit", "3"], model: letters)
        #expect(limited.map { $0["id"] } == ["0", "1", "2"])
        // Rows 0 and 1 share a batch in both runs (--batch-size 2), so their responses are the same.
        #expect(limited.prefix(2).map { $0["response"] } == rows2.prefix(2).map { $0["response"] })
        try Self.checkScores("cvbench", out: data2 + "/limited", expected: Self.cvScores(limited, Array(fixed.prefix(3))))
        #expect(try Self.summary(data2 + "/limited")["cvbench"]?["accuracy_3d"] == nil)
    }

    /// CV-Bench's scores by its rules: accuracy per source and per task, 2D = mean of ADE20K and
    /// COCO, 3D = Omni3D, combined = mean of 2D and 3D; keys of groups without questions left out.
    static func cvScores(_ rows: [Row], _ records: [CVRecord]) -> [String: Double] {
        var right: [String: Int] = [:], total: [String: Int] = [:]
        for (row, r) in zip(rows, records) {
            let ok = choiceIsRight(row["response"] ?? "", r.answer)
            for group in ["all", r.source.lowercased(), r.task.lowercased()] {
                total[group, default: 0] += 1
                if ok { right[group, default: 0] += 1 }
            }
        }
        var scores: [String: Double] = ["questions": Double(rows.count)]
        for (group, n) in total {
            scores[group == "all" ? "accuracy" : "accuracy_" + group] = Double(right[group] ?? 0) / Double(n)
        }
        if let ade = scores["accuracy_ade20k"], let coco = scores["accuracy_coco"] { scores["accuracy_2d"] = (ade + coco) / 2 }
        if let omni = scores["accuracy_omni3d"] { scores["accuracy_3d"] = omni }
        if let a = scores["accuracy_2d"], let b = scores["accuracy_3d"] { scores["accuracy_combined"] = (a + b) / 2 }
        return scores
    }

    // MARK: RealWorldQA

    static let realWorldRecords: [(id: String, text: String, answer: String)] = [
        ("1", "Which of the 3 objects is the smallest?\nA. The object on the right is the smallest object.\nB. The object on the left is the smallest object.\nC. The object in the middle is the smallest object.\nPlease answer directly with only the letter of the correct option and nothing else.", "C"),
        ("2", "Is the closest red car to us closer than the closest semi truck?\nPlease answer directly with a single word or number.", "Yes"),
        ("3", "Can the car directly ahead of us drive straight through the intersection?\nA. Yes\nB. No\nPlease answer directly with only the letter of the correct option and nothing else.", "B"),
        ("4", "What color is the traffic lights in this scene?\nPlease answer directly with a single word or number.", "Green"),
    ]

    /// `llava_test_realworldqa.jsonl` with the `.webp` images beside it, as LLaVA's conversion ships it.
    static func makeRealWorldQA(_ root: String, answers: [String]) throws {
        var lines: [String] = []
        for (i, r) in realWorldRecords.enumerated() {
            lines.append(try json(["question_id": r.id, "image": "\(r.id).webp", "text": r.text, "answer": answers[i]]))
            try fixtureImage("scene\(i + 1).webp", to: root + "/\(r.id).webp")
        }
        try write(lines.joined(separator: "\n") + "\n", to: root + "/llava_test_realworldqa.jsonl")
    }

    @Test func realWorldQAWithAndWithoutImages() throws {
        let data = try Self.temporaryFolder("realworldqa")
        let answers = Self.realWorldRecords.map(\.answer)
        try Self.makeRealWorldQA(data, answers: answers)
        let out = data + "/out"
        let rows = try Self.eval("realworldqa", data: data, out: out)
        try #require(rows.count == 4)
        #expect(rows.map { $0["id"] } == ["1", "2", "3", "4"])
        #expect(rows[1]["prompt"] == "Is the closest red car to us closer than the closest semi truck?\nPlease answer directly with a single word or number.")
        #expect(rows.map { $0["category"] } == ["multiple_choice", "free_form", "multiple_choice", "free_form"])
        #expect(rows.map { $0["answer"] } == answers)
        try Self.checkScores("realworldqa", out: out, expected: Self.realWorldScores(rows, answers))

        // --no-image: same prompts, its own files, and the with/without-image gap in summary.json.
        let blind = try Self.eval("realworldqa", data: data, out: out, ["--no-image"], suffix: "_no_image")
        #expect(blind.map { $0["prompt"] } == rows.map { $0["prompt"] })
        try Self.checkScores("realworldqa_no_image", out: out, expected: Self.realWorldScores(blind, answers))
        let summary = try Self.summary(out)
        let with = try #require(summary["realworldqa"]), without = try #require(summary["realworldqa_no_image"])
        let gap = try #require(summary["realworldqa_image_gap"])
        #expect(Set(gap.keys) == Set(with.keys).subtracting(["questions"]))
        for (key, value) in gap { #expect(value == (with[key] ?? .nan) - (without[key] ?? .nan), "\(key)") }

        // Second folder: answers taken from the responses with images (letters for the
        // multiple-choice questions, the response itself for a free-form one that has a word).
        var fixed = answers
        for (i, row) in rows.enumerated() {
            let response = row["response"] ?? ""
            if i % 2 == 0 {
                if let letter = Self.offeredLetter(response, count: 3) { fixed[i] = letter.uppercased() }
            } else if Self.hasContentWord(response) {
                fixed[i] = response
            }
        }
        let data2 = try Self.temporaryFolder("realworldqa2")
        try Self.makeRealWorldQA(data2, answers: fixed)
        let rows2 = try Self.eval("realworldqa", data: data2, out: data2 + "/out")
        #expect(rows2.map { $0["response"] } == rows.map { $0["response"] })
        try Self.checkScores("realworldqa", out: data2 + "/out", expected: Self.realWorldScores(rows2, fixed))
    }

    /// RealWorldQA: letter rule for multiple choice; free-form answers compared after the VQA
    /// normalisation, which for these answers (one plain word, or the response itself) reduces to
    /// lower-casing, trimming and dropping a final full stop.
    static func realWorldScores(_ rows: [Row], _ answers: [String]) -> [String: Double] {
        var right = ["multiple_choice": 0, "free_form": 0], total = ["multiple_choice": 0, "free_form": 0]
        for (i, (row, answer)) in zip(rows, answers).enumerated() {
            let kind = i % 2 == 0 ? "multiple_choice" : "free_form"
            let response = row["response"] ?? ""
            let ok = kind == "multiple_choice" ? choiceIsRight(response, answer) : simpleWord(response) == simpleWord(answer)
            total[kind, default: 0] += 1
            if ok { right[kind, default: 0] += 1 }
        }
        let all = Double(right.values.reduce(0, +)) / Double(rows.count)
        return ["accuracy": all, "questions": Double(rows.count),
                "accuracy_multiple_choice": Double(right["multiple_choice"] ?? 0) / Double(total["multiple_choice"] ?? 1),
                "accuracy_free_form": Double(right["free_form"] ?? 0) / Double(total["free_form"] ?? 1)]
    }

    // MARK: ScienceQA

    static let scienceRecords: [(id: String, image: Bool, human: String, answer: String)] = [
        ("4", false, "Which figure of speech is used in this text?\nSing, O goddess, the anger of Achilles son of Peleus, that brought countless ills upon the Achaeans.\n\u{2014}Homer, The Iliad\nA. chiasmus\nB. apostrophe", "B"),
        ("5", true, "<image>\nContext: Figure: Mars.\nWhich planet is shown?\nA. Mars\nB. Venus\nC. Earth", "A"),
        ("11", true, "<image>\nContext: The images below show two pairs of magnets.\nWhich statement is true?\nA. The magnitude of the magnetic force is smaller in Pair 1.\nB. The magnitude of the magnetic force is smaller in Pair 2.", "B"),
        ("23", true, "<image>\nWhat is the capital of Montana?\nA. Helena\nB. Billings\nC. Great Falls\nD. Missoula", "A"),
    ]

    /// LLaVA's `llava_test_CQM-A.json` (conversation format; text-only questions have no `image`)
    /// and `images/test/<id>/image.png`.
    static func makeScienceQA(_ root: String, answers: [String]) throws {
        var records: [[String: Any]] = []
        for (i, r) in scienceRecords.enumerated() {
            var record: [String: Any] = ["id": r.id, "conversations": [["from": "human", "value": r.human], ["from": "gpt", "value": answers[i]]]]
            if r.image {
                record["image"] = "\(r.id)/image.png"
                try png(root + "/images/test/\(r.id)/image.png", seed: 10 + i)
            }
            records.append(record)
        }
        let data = try JSONSerialization.data(withJSONObject: records, options: [.prettyPrinted])
        try write(String(decoding: data, as: UTF8.self), to: root + "/llava_test_CQM-A.json")
    }

    @Test func scienceQAImageQuestionsOnly() throws {
        let data = try Self.temporaryFolder("scienceqa")
        let answers = Self.scienceRecords.map(\.answer)
        try Self.makeScienceQA(data, answers: answers)
        let rows = try Self.eval("scienceqa", data: data, out: data + "/out")
        // The text-only question (id 4) is not part of ScienceQA-IMG.
        #expect(rows.map { $0["id"] } == ["5", "11", "23"])
        try #require(rows.count == 3)
        #expect(rows[0]["prompt"] == "Context: Figure: Mars.\nWhich planet is shown?\nA. Mars\nB. Venus\nC. Earth\nAnswer with the option's letter from the given choices directly.")
        #expect(rows.map { $0["answer"] } == ["A", "B", "A"] && rows.allSatisfy { $0["category"] == "" })
        try Self.checkScores("scienceqa", out: data + "/out", expected: Self.accuracyScores(rows))

        // The letter model, then a second folder with the first and third answers right, the second wrong.
        let letters = try Self.letterModel()
        let first = try Self.eval("scienceqa", data: data, out: data + "/letters", model: letters)
        try Self.checkScores("scienceqa", out: data + "/letters", expected: Self.accuracyScores(first))
        let data2 = try Self.temporaryFolder("scienceqa2")
        try Self.makeScienceQA(data2, answers: ["B"] + (try Self.alternating(first, format: { $0.uppercased() })))
        let rows2 = try Self.eval("scienceqa", data: data2, out: data2 + "/out", model: letters)
        #expect(rows2.map { $0["response"] } == first.map { $0["response"] })
        let expected = Self.accuracyScores(rows2)
        #expect(expected == ["accuracy": 2.0 / 3.0, "questions": 3])
        try Self.checkScores("scienceqa", out: data2 + "/out", expected: expected)
    }

    /// Plain multiple-choice accuracy by the letter rule, against the `answer` the jsonl records.
    static func accuracyScores(_ rows: [Row]) -> [String: Double] {
        let right = rows.filter { choiceIsRight($0["response"] ?? "", $0["answer"] ?? "") }.count
        return ["accuracy": Double(right) / Double(rows.count), "questions": Double(rows.count)]
    }

    // MARK: TextVQA

    static let textRecords: [(imageID: String, questionID: Int, question: String, ocr: String)] = [
        ("003a8ae2ef43b901", 34602, "What is the brand of this camera?", "DAKOTA, DIGITAL, Single-Use, Camera, Pire, digitat"),
        ("b9dc400eb20bad64", 34603, "What does the small white text spell?", "D, RUPALCON, PALCON, COPENHAGEN"),
        ("2b538a43dd933fc1", 34604, "What kind of beer is this?", "NINK, NK, BOWING, CC, STON, SUE, ED, Sublimely, SELF, ELF-RICHEE, swAaVd, KGy, ALE"),
    ]
    static let textAnswers = [
        ["nous les gosses", "dakota", "clos culombu", "dakota digital", "dakota", "dakota", "dakota digital", "dakota digital", "dakota", "dakota"],
        ["copenhagen", "copenhagen", "copenhagen", "copenhagen", "copenhagen", "thursday", "copenhagen", "copenhagen", "copenhagen", "copenhagen"],
        ["ale", "sublimely self-righteous ale", "stone", "ale", "self righteous", "ale", "stone", "ale", "ale", "stone"],
    ]

    /// LLaVA's `llava_textvqa_val_v051_ocr.jsonl` (question id = image id), the official
    /// `TextVQA_0.5.1_val.json` (lower-cased questions, ten answers) and `train_images/<id>.jpg`.
    static func makeTextVQA(_ root: String, answers: [[String]]) throws {
        var lines: [String] = []
        var data: [[String: Any]] = []
        for (i, r) in textRecords.enumerated() {
            lines.append(try json(["question_id": r.imageID, "image": r.imageID + ".jpg", "category": "default",
                                   "text": "\(r.question)\nReference OCR token: \(r.ocr)\nAnswer the question using a single word or phrase."]))
            data.append(["question": r.question.lowercased(), "image_id": r.imageID, "answers": answers[i], "question_id": r.questionID,
                         "image_classes": ["Camera"], "set_name": "val"])
            try fixtureImage("scene\(i + 1).jpg", to: root + "/train_images/\(r.imageID).jpg")
        }
        try write(lines.joined(separator: "\n") + "\n", to: root + "/llava_textvqa_val_v051_ocr.jsonl")
        let document: [String: Any] = ["dataset_type": "val", "dataset_name": "textvqa", "dataset_version": "0.5.1", "data": data]
        try write(String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self), to: root + "/TextVQA_0.5.1_val.json")
    }

    @Test func textVQA() throws {
        let data = try Self.temporaryFolder("textvqa")
        try Self.makeTextVQA(data, answers: Self.textAnswers)
        let rows = try Self.eval("textvqa", data: data, out: data + "/out")
        try #require(rows.count == 3)
        #expect(rows.map { $0["id"] } == ["34602", "34603", "34604"])
        #expect(rows[0]["prompt"] == "What is the brand of this camera?\nReference OCR token: DAKOTA, DIGITAL, Single-Use, Camera, Pire, digitat\nAnswer the question using a single word or phrase.")
        // `answer` is the human answer that scores best against all ten (first such in file order).
        #expect(rows.map { $0["answer"] } == ["dakota", "copenhagen", "ale"])
        try Self.checkScores("textvqa", out: data + "/out", expected: Self.textScores(rows, Self.textAnswers))

        // Second folder: 3, 1 and 0 of the ten human answers are the model's own response, the
        // others a word no response normalises to; expected VQA accuracies 0.9, 0.3 and 0.
        let answers2 = rows.enumerated().map { i, row in
            Array(repeating: row["response"] ?? "", count: [3, 1, 0][i]) + Array(repeating: "zzzq", count: 10 - [3, 1, 0][i])
        }
        let data2 = try Self.temporaryFolder("textvqa2")
        try Self.makeTextVQA(data2, answers: answers2)
        let rows2 = try Self.eval("textvqa", data: data2, out: data2 + "/out")
        #expect(rows2.map { $0["response"] } == rows.map { $0["response"] })
        // Seven "zzzq" score 1.0 against the ten, three copies of the response 0.9: "zzzq" is the best answer.
        #expect(rows2.map { $0["answer"] } == ["zzzq", "zzzq", "zzzq"])
        let expected = try Self.textScores(rows2, answers2)
        #expect(abs((expected["accuracy"] ?? 0) - 0.4) < 1e-12)
        try Self.checkScores("textvqa", out: data2 + "/out", expected: expected)
    }

    /// Mean VQA accuracy: for each of the ten leave-one-out subsets, min(#matches / 3, 1), averaged.
    /// Matching is string equality after lower-casing and trimming, which the VQA normalisation
    /// reduces to for these answers (plain lower-case words, or the response itself).
    static func textScores(_ rows: [Row], _ answers: [[String]]) throws -> [String: Double] {
        var total = 0.0
        for (row, humans) in zip(rows, answers) {
            let response = simpleWord(row["response"] ?? "")
            let matches = humans.map { simpleWord($0) == response }
            var sum = 0.0
            for left in matches.indices {
                let others = matches.enumerated().filter { $0.offset != left && $0.element }.count
                sum += min(1, Double(others) / 3)
            }
            total += sum / Double(humans.count)
        }
        return ["accuracy": total / Double(rows.count), "questions": Double(rows.count)]
    }

    // MARK: all five (and the judged three) from one folder of folders

    @Test func allBenchmarksFromOneFolder() throws {
        let data = try Self.temporaryFolder("all")
        try Self.makeCVBench(data + "/cvbench", Self.cvRecords)
        try Self.makeRealWorldQA(data + "/realworldqa", answers: Self.realWorldRecords.map(\.answer))
        try Self.makeScienceQA(data + "/scienceqa", answers: Self.scienceRecords.map(\.answer))
        try Self.makeTextVQA(data + "/textvqa", answers: Self.textAnswers)
        try Self.makeMMVP(data + "/mmvp")
        try Self.makeJudgedReleases(data)
        let out = data + "/out"
        // The judged three are answered but not judged here (JudgeEndToEndTests covers the judge).
        let run = try CLITests.run(Self.common + ["--benchmark", "all", "--data-root", data, "--output-dir", out, "--limit", "2", "--skip-judge"])
        try #require(run.status == 0, "\(run.output)")
        let summary = try Self.summary(out)
        #expect(Set(summary.keys) == ["mmvp", "cvbench", "realworldqa", "textvqa", "scienceqa"])
        for (name, count) in [("mmvp", 2), ("cvbench", 2), ("realworldqa", 2), ("textvqa", 2), ("scienceqa", 2),
                              ("mmvet", 2), ("llavabench", 2), ("mmhal", 2)] {
            let rows = try Self.rows(out + "/\(name).jsonl")
            #expect(rows.count == count, "\(name)")
            #expect(FileManager.default.fileExists(atPath: out + "/\(name).txt"), "\(name)")
        }
        try Self.checkScores("cvbench", out: out, expected: Self.cvScores(try Self.rows(out + "/cvbench.jsonl"), Self.cvRecords))
        try Self.checkScores("scienceqa", out: out, expected: Self.accuracyScores(try Self.rows(out + "/scienceqa.jsonl")))
        let mmvp = try Self.rows(out + "/mmvp.jsonl")
        let bothRight = mmvp.allSatisfy { Self.choiceIsRight($0["response"] ?? "", $0["answer"] ?? "") }
        #expect(summary["mmvp"]?["paired_accuracy"] == (bothRight ? 1 : 0))
        // The printed table lists every rule-graded score.
        #expect(run.output.contains("cvbench") && run.output.contains("accuracy_2d") && run.output.contains("paired_accuracy"))
    }

    /// Two MMVP rows (one pair) with JPEG images, `Questions.csv` quoted as the release quotes it.
    static func makeMMVP(_ root: String) throws {
        try write("Index,Question,Options,Correct Answer\n1,Are the wings open or closed?,(a) Open (b) Closed,(a)\n"
                  + "2,Are the wings open or closed?,(a) Open (b) Closed,(b)\n", to: root + "/Questions.csv")
        for i in 1...2 { try fixtureImage("scene\(i).jpg", to: root + "/MMVP Images/\(i).jpg") }
    }

    /// Minimal MM-Vet, LLaVA-Bench and MMHal-Bench releases (their responses are written, grading
    /// is the judge's business).
    static func makeJudgedReleases(_ data: String) throws {
        let vet: [String: Any] = [
            "v1_0": ["imagename": "v1_0.png", "question": "What is x in the equation?", "answer": "-1<AND>-5", "capability": ["ocr", "math"]],
            "v1_1": ["imagename": "v1_1.png", "question": "What is d in the last equation?", "answer": "1.25<OR>=1.25<OR>5/4", "capability": ["ocr", "math"]],
        ]
        try write(String(decoding: try JSONSerialization.data(withJSONObject: vet), as: UTF8.self), to: data + "/mmvet/mm-vet.json")
        for i in 0...1 { try png(data + "/mmvet/images/v1_\(i).png", seed: 20 + i) }

        var questions: [String] = [], answers: [String] = []
        for i in 0...1 {
            questions.append(try json(["image": "001.jpg", "text": ["What is the name of this famous sight in the photo?", "Describe this photo in detail."][i],
                                       "category": ["conv", "detail"][i], "question_id": i]))
            answers.append(try json(["question_id": i, "text": "An answer.", "answer_id": "a\(i)", "model_id": "gpt-4-0314", "metadata": [:] as [String: Any]]))
        }
        try write(questions.joined(separator: "\n") + "\n", to: data + "/llavabench/questions.jsonl")
        try write(answers.joined(separator: "\n") + "\n", to: data + "/llavabench/answers_gpt4.jsonl")
        try write(try json(["id": "001", "image": "001.jpg", "caption": "A famous sight."]) + "\n", to: data + "/llavabench/context.jsonl")
        try fixtureImage("scene3.jpg", to: data + "/llavabench/images/001.jpg")

        let hal: [[String: Any]] = (0...1).map { i in
            ["question_type": "attribute", "question_topic": "outdoor", "image_id": "hal\(i)",
             "image_src": "https://example.org/hal\(i).jpg", "image_content": ["Fire hydrant"],
             "question": "What color is the fire hydrant cap in the picture?", "gt_answer": "Yellow.", "model_answer": ""]
        }
        try write(String(decoding: try JSONSerialization.data(withJSONObject: hal), as: UTF8.self), to: data + "/mmhal/mmhal-bench_answer_template.json")
        for i in 0...1 { try fixtureImage("scene\(i + 1).jpg", to: data + "/mmhal/images/hal\(i).jpg") }
    }

    // MARK: running and reading

    static let common = ["eval", "--model", "demo/tiny-llava", "--max-new-tokens", "3", "--batch-size", "2"]

    /// Runs `svco eval` on one benchmark, checks the jsonl's fields and returns its rows.
    /// - Parameter model: a model folder; the letter model answers with one token (`--max-new-tokens 1`).
    static func eval(_ benchmark: String, data: String, out: String, _ extra: [String] = [], suffix: String = "",
                     model: String? = nil) throws -> [Row] {
        var arguments = common + ["--benchmark", benchmark, "--data-root", data, "--output-dir", out] + extra
        if let model { arguments += ["--model", model, "--max-new-tokens", "1"] }  // the last of a repeated option wins
        let run = try CLITests.run(arguments)
        try #require(run.status == 0, "\(run.output)")
        #expect(run.output.contains("scores: \(out)/summary.json"), "\(run.output)")
        return try rows(out + "/\(benchmark)\(suffix).jsonl")
    }

    static func rows(_ path: String) throws -> [Row] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        return try text.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(path): \(line)")
            let row = object.compactMapValues { $0 as? String }
            #expect(row.count == object.count, "\(path): a field is not a string: \(line)")
            #expect(Set(row.keys).isSuperset(of: ["id", "prompt", "answer", "response", "category"]), "\(path): \(line)")
            return row
        }
    }

    static func summary(_ out: String) throws -> [String: [String: Double]] {
        try JSONDecoder().decode([String: [String: Double]].self, from: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
    }

    /// summary.json holds exactly `expected` under `key` (to rounding), and `<key>.txt` one line per score.
    static func checkScores(_ key: String, out: String, expected: [String: Double], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let scores = try #require(try summary(out)[key], "no \(key) in summary.json", sourceLocation: sourceLocation)
        #expect(Set(scores.keys) == Set(expected.keys), "\(key)", sourceLocation: sourceLocation)
        for (name, value) in expected {
            #expect(abs((scores[name] ?? .nan) - value) < 1e-12, "\(key) \(name): \(scores[name] ?? .nan) vs \(value)", sourceLocation: sourceLocation)
        }
        let lines = try String(contentsOfFile: out + "/\(key).txt", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == scores.keys.sorted().map { "\(key) \($0): \(scores[$0] ?? .nan)" }, sourceLocation: sourceLocation)
    }

    // MARK: a model that answers with a letter

    /// The demo model with an output layer that can only say "A" or "B": every row of
    /// `lm_head.weight` zero except A's (kept) and B's (A's negated), so the first token is "A" when
    /// the final hidden state leans A's way and "B" otherwise. The random demo model never answers
    /// with a bare letter; this one does, with the letter depending on the question and image, so
    /// multiple-choice scores come out neither all right nor all wrong.
    static func letterModel() throws -> String {
        let folder = try temporaryFolder("letter-model")
        let source = CLITests.root + "/demo/tiny-llava"
        for name in try FileManager.default.contentsOfDirectory(atPath: source) {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name)
        }
        let tokenizer = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source + "/tokenizer.json"))) as? [String: Any])
        let vocab = try #require((tokenizer["model"] as? [String: Any])?["vocab"] as? [String: Int])
        let (a, b) = (try #require(vocab["A"]), try #require(vocab["B"]))
        // safetensors: u64 header length, JSON header (data_offsets relative to the data section), data.
        let path = folder + "/model.safetensors"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any])
        let entry = try #require(header["language_model.lm_head.weight"] as? [String: Any])
        let shape = try #require(entry["shape"] as? [Int]), offsets = try #require(entry["data_offsets"] as? [Int])
        #expect(entry["dtype"] as? String == "F32" && shape.count == 2)
        let (rows, width, start) = (shape[0], shape[1], 8 + headerLength + offsets[0])
        func float(_ at: Int) -> Float {
            Float(bitPattern: bytes[at..<(at + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        let rowA = (0..<width).map { float(start + (a * width + $0) * 4) }
        for row in 0..<rows where row != a {
            for column in 0..<width {
                let at = start + (row * width + column) * 4
                let value: Float = row == b ? -rowA[column] : 0
                withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(at..<(at + 4), with: $0) }
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return folder
    }

    /// Answers for a second release folder: right (the letter the model gave) for even positions,
    /// wrong (the other letter) for odd ones.
    static func alternating(_ rows: [Row], format: (String) -> String) throws -> [String] {
        try rows.enumerated().map { i, row in
            let letter = try #require(offeredLetter(row["response"] ?? "", count: 2), "not a letter: \(row["response"] ?? "")")
            return format(i % 2 == 0 ? letter : (letter == "a" ? "b" : "a"))
        }
    }

    // MARK: the paper's rules, written out again

    /// SVCO-SPEC §7: lower-case, first four characters, no parentheses or whitespace, compared with
    /// the correct letter cleaned the same way (an empty target never matches).
    static func choiceIsRight(_ response: String, _ answer: String) -> Bool {
        func clean(_ s: String) -> String {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s.lowercased().unicodeScalars.prefix(4).filter { $0 != "(" && $0 != ")" && !$0.properties.isWhitespace })
            return String(view)
        }
        return !clean(answer).isEmpty && clean(response) == clean(answer)
    }

    /// The letter a response selects by the §7 rule when it is one of the first `count` options.
    static func offeredLetter(_ response: String, count: Int) -> String? {
        let letters = "abcdefghijklmnopqrstuvwxyz".prefix(count).map(String.init)
        return letters.first { choiceIsRight(response, "(\($0))") }
    }

    static func simpleWord(_ s: String) -> String {
        var t = s.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }

    /// Whether a response keeps a word under the VQA normalisation (an alphanumeric run of two or
    /// more that is not an article), so it can serve as a free-form answer.
    static func hasContentWord(_ s: String) -> Bool {
        s.lowercased().split { !$0.isLetter && !$0.isNumber }.contains { $0.count >= 2 && !["an", "the"].contains($0) }
    }

    // MARK: files

    static func temporaryFolder(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "svco-e2e-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A PNG that differs per seed: a coloured background with a block of another colour.
    static func png(_ path: String, seed: Int) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let s = UInt8(truncatingIfNeeded: seed * 37)
        var canvas = Canvas(width: 40, height: 30, background: (s, 255 &- s, UInt8(truncatingIfNeeded: seed * 91)))
        canvas.rectangle(4 + seed % 10, 6, 16, 12, (255 &- s, UInt8(truncatingIfNeeded: seed * 53), s))
        try PNGWriter.write(canvas.image, to: path)
    }

    static func fixtureImage(_ name: String, to path: String) throws {
        let source = CLITests.root + "/Tests/CLITests/Fixtures/eval-images/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source, toPath: path)
    }
}
