/// The answer normalisation of the standard VQA evaluation, in the form LLaVA's TextVQA scoring
/// applies it to both predictions and human answers (the EvalAI answer processor):
///
/// 1. lower-case; delete "," and "?"; split "'s" off as " 's"; trim;
/// 2. tabs and newlines become spaces; trim;
/// 3. punctuation: each mark of ``punctuation`` is deleted when it touches a space somewhere in the
///    text (or when the text holds a digit-comma-digit run, the "comma in a number" rule), and
///    otherwise replaced by a space; then "." is deleted unless a digit follows it (so "3.5"
///    survives), at most 32 times — the reference passes `re.UNICODE` (= 32) where `count` goes;
/// 4. lower-case, split on whitespace, number words zero…ten and "none" become digits, the
///    articles a/an/the are dropped, contractions written without apostrophe get it back
///    ("dont" → "don't"), and the words are joined with single spaces.
///
/// Because step 1 deletes every comma, the comma-in-number rule of step 3 cannot fire in this
/// pipeline; it is kept (``processPunctuation(_:)``) so the step matches the official VQA script.
public struct VQAAnswerNormalizer: Sendable {
    public init() {}

    /// Marks handled in step 3 ("." and "'" are not among them).
    public static let punctuation: [Unicode.Scalar] = [
        ";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!",
    ]

    static let numberWords: [String: String] = [
        "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
        "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
    ]

    static let articles: Set<String> = ["a", "an", "the"]

    /// The normalised answer.
    public func normalize(_ answer: String) -> String {
        var s = PythonText.scalars(answer.lowercased())
        s = s.filter { $0 != "," && $0 != "?" }
        s = PythonText.replace(s, ["'", "s"], [" ", "'", "s"])
        s = Array(PythonText.strip(s))
        s = s.map { $0 == "\n" || $0 == "\t" ? " " : $0 }
        s = Array(PythonText.strip(s))
        return digitsAndArticles(processPunctuation(s))
    }

    /// Step 3 on a scalar array.
    func processPunctuation(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let marks = Set(Self.punctuation)
        // Which marks touch a space anywhere in the *input* text (the reference tests the input,
        // not the progressively edited output).
        var touchesSpace = Set<Unicode.Scalar>()
        for i in 0..<max(text.count - 1, 0) {
            if text[i + 1] == " ", marks.contains(text[i]) { touchesSpace.insert(text[i]) }
            if text[i] == " ", marks.contains(text[i + 1]) { touchesSpace.insert(text[i + 1]) }
        }
        let numberComma = Self.hasDigitCommaDigit(text)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for c in text {
            if marks.contains(c) {
                if numberComma || touchesSpace.contains(c) { continue }
                out.append(" ")
            } else {
                out.append(c)
            }
        }
        // Period rule on the edited text; the lookahead sees the text as it was before deletions.
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(out.count)
        var removed = 0
        for (i, c) in out.enumerated() {
            if c == ".", removed < 32, !(i + 1 < out.count && PythonText.isDigit(out[i + 1])) {
                removed += 1
                continue
            }
            result.append(c)
        }
        return result
    }

    /// `(?<=\d)(,)+(?=\d)`: a run of commas between two digits.
    static func hasDigitCommaDigit(_ s: [Unicode.Scalar]) -> Bool {
        var i = 1
        while i < s.count {
            if s[i] == ",", PythonText.isDigit(s[i - 1]) {
                var j = i
                while j < s.count, s[j] == "," { j += 1 }
                if j < s.count, PythonText.isDigit(s[j]) { return true }
                i = j
            } else {
                i += 1
            }
        }
        return false
    }

    /// Step 4.
    func digitsAndArticles(_ text: [Unicode.Scalar]) -> String {
        let lowered = PythonText.scalars(PythonText.string(text).lowercased())
        var words: [String] = []
        for scalars in PythonText.split(lowered) {
            var word = PythonText.string(scalars)
            word = Self.numberWords[word] ?? word
            if Self.articles.contains(word) { continue }
            words.append(VQAContractions.table[word] ?? word)
        }
        return words.joined(separator: " ")
    }
}
