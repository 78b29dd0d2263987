import Testing
@testable import Evaluation

/// The VQA answer normaliser and accuracy, against hand-derived values of the reference rules.
struct VQATests {
    let normalizer = VQAAnswerNormalizer()

    @Test("known pairs", arguments: [
        ("Two", "2"), ("none", "0"), ("TEN", "10"),
        ("The Dog", "dog"), ("an apple", "apple"), ("(a)", ""),   // "(a)" → " a " → article dropped
        ("dont", "don't"), ("Isnt", "isn't"), ("youre", "you're"), ("somebody'd", "somebodyd"),
        ("Hello, World!", "hello world"), ("What?", "what"), ("1,000", "1000"), ("1,2", "12"),
        ("yes.", "yes"), ("3.5", "3.5"), ("u.s.a.", "usa"), ("e.g. 2.5", "eg 2.5"), (".5", ".5"),
        ("coca-cola", "coca cola"), ("coca - cola", "coca cola"), ("a-b c- d", "ab c d"),
        ("@home", "home"), ("x @ y", "x y"),
        ("it's", "it 's"), ("mr. smith's", "mr smith 's"),
        ("  Ten\tdollars\n", "10 dollars"), ("11:38 ET", "11:38 et"), ("", ""),
    ])
    func normalise(_ input: String, _ expected: String) {
        #expect(normalizer.normalize(input) == expected)
    }

    @Test func periodRuleStopsAfterThirtyTwo() {
        // The reference passes re.UNICODE (32) as the substitution count.
        #expect(normalizer.normalize(String(repeating: ".", count: 32)) == "")
        #expect(normalizer.normalize(String(repeating: ".", count: 33)) == ".")
    }

    @Test func commaInNumberRuleOfThePunctuationStep() {
        // Unreachable through normalize() (commas are deleted first), but the step itself follows
        // the official script: a digit-comma-digit run deletes every mark instead of spacing it.
        let step = normalizer.processPunctuation(Array("1,000 a-b".unicodeScalars))
        #expect(PythonText.string(step) == "1000 ab")
        let plain = normalizer.processPunctuation(Array("a,b a-b".unicodeScalars))
        #expect(PythonText.string(plain) == "a b a b")
    }

    static let dakota = [
        "nous les gosses", "dakota", "clos culombu", "dakota digital", "dakota",
        "dakota", "dakota digital", "dakota digital", "dakota", "dakota",
    ]

    @Test("accuracy: mean over ten leave-one-out subsets of min(matches/3, 1)", arguments: [
        ("Dakota", dakota, 1.0),                 // 5 matches
        ("Dakota.", dakota, 1.0),
        ("dakota digital", dakota, 0.9),         // 3 matches: (3·2/3 + 7·1)/10
        ("nous les gosses", dakota, 0.3),        // 1 match: 9·(1/3)/10
        ("kodak", dakota, 0.0),
        ("yes", ["yes", "yes", "no", "no", "no", "no", "no", "no", "no", "no"], 0.6),    // (2·1/3 + 8·2/3)/10
        ("yes", ["yes", "yes", "yes", "yes", "no", "no", "no", "no", "no", "no"], 1.0),  // 4 matches
        ("2", ["two", "Two", "2", "3", "3", "3", "3", "3", "3", "3"], 0.9),              // normalised: 3 matches
        ("the cat", ["cat", "a cat", "cats", "dog", "dog", "dog", "dog", "dog", "dog", "dog"], 0.6),
        ("anything", [], 0.0),
    ])
    func accuracy(_ prediction: String, _ answers: [String], _ expected: Double) {
        #expect(close(VQAAccuracy().score(prediction: prediction, answers: answers), expected))
    }
}
