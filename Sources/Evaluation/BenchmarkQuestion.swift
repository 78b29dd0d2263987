/// One question of a benchmark, as the model will see it.
public struct BenchmarkQuestion: Sendable, Equatable, Codable {
    /// Unique within its benchmark (the public file's own id where it has a unique one).
    public var id: String
    /// The user text the model sees, before the chat template and without any image token.
    public var prompt: String
    /// Image files, resolved against the data root (not checked for existence by the readers).
    public var imagePaths: [String]
    /// The graded target: an option letter such as "(a)" / "B", a short answer, or (for the
    /// GPT-judged benchmarks) the reference answer the judge compares against.
    public var answer: String
    /// Category used for per-category scores (CV-Bench task, RealWorldQA answer kind, MM-Vet
    /// capabilities, LLaVA-Bench category, MMHal question type); nil where the benchmark has none.
    public var category: String?
    /// Further fields from the public files that a grader or judge needs (e.g. CV-Bench `source`).
    public var extra: [String: String]
    /// TextVQA: the ten human answers the VQA accuracy is computed against; empty elsewhere.
    public var referenceAnswers: [String]

    public init(
        id: String, prompt: String, imagePaths: [String], answer: String, category: String? = nil,
        extra: [String: String] = [:], referenceAnswers: [String] = []
    ) {
        self.id = id
        self.prompt = prompt
        self.imagePaths = imagePaths
        self.answer = answer
        self.category = category
        self.extra = extra
        self.referenceAnswers = referenceAnswers
    }

    enum CodingKeys: String, CodingKey {
        case id, prompt, answer, category, extra
        case imagePaths = "image_paths"
        case referenceAnswers = "reference_answers"
    }
}

/// A model's response to one question, as handed to a grader.
public struct BenchmarkResponse: Sendable, Equatable {
    public var question: BenchmarkQuestion
    /// The decoded generation (special tokens removed); graders do their own cleaning.
    public var response: String

    public init(question: BenchmarkQuestion, response: String) {
        self.question = question
        self.response = response
    }
}

/// The instruction LLaVA's evaluation appends to multiple-choice questions that lack one
/// (MMVP, CV-Bench, ScienceQA); RealWorldQA and TextVQA files already carry their own.
public let multipleChoiceInstruction = "Answer with the option's letter from the given choices directly."
