import Testing
@testable import Evaluation

/// SVCO-SPEC §7: lower-case, first four characters, drop parentheses and whitespace.
struct MultipleChoiceTests {
    @Test("clean keeps the option letter", arguments: [
        ("(A)", "a"), ("(a) Open", "a"), (" (c)", "c"), ("\n(b)", "b"), ("B", "b"),
        ("A.", "a."), ("B) Closed", "bc"), ("(a)(b)", "a"), ("", ""), ("The answer", "the"),
    ])
    func clean(_ input: String, _ expected: String) {
        #expect(MultipleChoice.clean(input) == expected)
    }

    @Test("hand-graded responses", arguments: [
        ("(a) Open", "(a)", true),
        ("A", "(a)", true),
        ("a", "(A)", true),
        ("(b)", "(a)", false),
        (" (c)", "(C)", true),
        ("\n(b)", "B", true),
        ("(a)(b)", "(a)", true),      // only the first four characters count
        ("A.", "A", false),           // "a." is not "a": the rule is literal
        ("B) Closed", "(b)", false),  // "b) c" cleans to "bc"
        ("The answer is (a)", "(a)", false),
        ("", "(a)", false),
        ("ab", "a", false),
        ("", "", false),              // a blank target never matches
    ])
    func grade(_ response: String, _ answer: String, _ expected: Bool) {
        #expect(MultipleChoice.isCorrect(response: response, answer: answer) == expected)
    }

    @Test func letterValidation() {
        #expect(MultipleChoice.letter("(C)") == "c")
        #expect(MultipleChoice.letter("E") == "e")
        #expect(MultipleChoice.letter("(ab)") == nil)
        #expect(MultipleChoice.letter("1") == nil)
        #expect(MultipleChoice.letter("") == nil)
    }
}
