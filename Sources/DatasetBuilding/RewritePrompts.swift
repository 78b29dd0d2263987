import ChatCompletions

/// Every text `svco data augment` sends to the language model, in one place (written for svco
/// from the paper's description of its two GPT-4o stages; not the paper's own prompts, which
/// were not released).
///
/// Stage 1 turns a pair's two source captions into one question both images answer differently,
/// with one answer per image. Stage 2 rewords that question and those answers for variety while
/// keeping every fact that tells the images apart. Both ask for a bare JSON object with exactly
/// the keys `question`, `answer_1`, `answer_2` (``RewriteReply``).
public enum RewritePrompts {
    /// Stage 1: deterministic-ish, the content must follow the captions.
    public static let stage1Temperature = 0.2
    /// Stage 2: varied wording is the point of this stage.
    public static let stage2Temperature = 0.9
    /// Enough for a question and two short answers in JSON.
    public static let maxTokens = 400

    static let replyFormat = """
        Reply with a single JSON object and nothing else (no code fence, no comments), with exactly \
        these three string keys: {"question": "...", "answer_1": "...", "answer_2": "..."}.
        """

    static let stage1System = """
        You help build training data for a vision-language model. You receive the captions of two \
        photos that are nearly identical and differ in one visual detail (for example where \
        something is, how many there are, or what colour or kind it is).

        Write one question a person could ask about either photo, such that the correct answer \
        differs between the two photos because of that detail. Then write the answer that is true \
        for photo 1 and the answer that is true for photo 2.

        Rules:
        - Base everything only on the captions; do not invent details that they do not state.
        - The question must not reveal the answer and must make sense for both photos.
        - Each answer is one or two natural sentences that state the differing detail explicitly.
        - The two answers must contradict each other on that detail.
        - Never mention captions, "photo 1", "photo 2", "the first image" or "the second image".

        """ + replyFormat

    static let stage2System = """
        You rewrite question-and-answer pairs about photos so that training data does not repeat \
        the same phrasing. You receive a question asked about two nearly identical photos and the \
        answer that is true for each photo.

        Reword the question and both answers as a person chatting about a photo might: vary the \
        sentence structure and vocabulary, keep the tone natural, keep each answer to one or two \
        sentences.

        Rules:
        - Keep every fact that tells the two photos apart exactly as given: the objects, counts, \
        positions, directions, colours and attributes.
        - Do not add facts that the input does not contain; do not drop the differing detail.
        - answer_1 stays the answer for the first photo and answer_2 for the second; they must \
        still contradict each other.
        - Never mention captions, "photo 1", "photo 2", "the first image" or "the second image".

        """ + replyFormat

    /// The stage-1 request for a pair's captions (`category`, when known, hints at the detail).
    public static func stage1(model: String, captions: (String, String), category: String?) -> ChatRequest {
        var user = "Caption of photo 1: \(captions.0)\nCaption of photo 2: \(captions.1)"
        if let category { user += "\nThe kind of difference (dataset category): \(category)" }
        return ChatRequest(model: model, messages: [.system(stage1System), .user(user)],
                           temperature: stage1Temperature, maxTokens: maxTokens)
    }

    /// The stage-2 request rewording a validated stage-1 result.
    public static func stage2(model: String, from first: RewriteReply) -> ChatRequest {
        ChatRequest(model: model, messages: [.system(stage2System), .user(first.json)],
                    temperature: stage2Temperature, maxTokens: maxTokens)
    }

    /// The same conversation with the unusable reply and a request to answer again (a new
    /// request, so a cached bad reply is never asked for twice).
    public static func reask(_ request: ChatRequest, badReply: String, problem: String) -> ChatRequest {
        var next = request
        next.messages.append(ChatMessage(role: "assistant", content: badReply))
        next.messages.append(.user("That reply cannot be used: \(problem). Answer the same task again. " + replyFormat))
        return next
    }
}
