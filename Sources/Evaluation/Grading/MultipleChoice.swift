/// Multiple-choice grading as the S-VCO evaluation does it (SVCO-SPEC §7): lower-case the text,
/// keep its first four characters, drop parentheses and whitespace, and compare with the correct
/// letter cleaned the same way. "(a) Open", "A" and " b)" all reduce to one letter; "A." does not
/// (it reduces to "a."), which is deliberate: the rule is the paper's, not a lenient parser.
public enum MultipleChoice {
    /// The cleaned form of a response or a correct letter.
    public static func clean(_ text: String) -> String {
        // Characters are code points, as in the Python reference (`s.lower()[:4]`).
        let head = text.lowercased().unicodeScalars.prefix(4)
        return PythonText.string(head.filter { $0 != "(" && $0 != ")" && !PythonText.isSpace($0) })
    }

    /// Whether `response` selects the option `answer` (e.g. "(b)", "B").
    /// An answer that cleans to nothing never matches, so a blank response is never right.
    public static func isCorrect(response: String, answer: String) -> Bool {
        let target = clean(answer)
        return !target.isEmpty && clean(response) == target
    }

    /// The option letter of a correct answer such as "(C)", "B" or "(a)", lower-cased; nil when
    /// the text is not a single letter a–z once cleaned. Readers use it to validate answers.
    static func letter(_ answer: String) -> Character? {
        let cleaned = clean(answer)
        guard cleaned.count == 1, let c = cleaned.unicodeScalars.first, ("a"..."z").contains(c) else { return nil }
        return Character(c)
    }
}
