import Testing
@testable import DatasetBuilding

/// Strict parsing and validation of the rewrite stages' replies.
@Suite struct RewriteReplyTests {
    func problem(_ reply: String) -> String? {
        if case let .failure(p) = RewriteReply.parse(reply) { return p.description }
        return nil
    }

    @Test func goodReplies() throws {
        let plain = RewriteReply.parse(#"  {"question": " How many dogs? ", "answer_1": "Two dogs.", "answer_2": "Three dogs."}"# + "\n")
        #expect(try plain.get() == RewriteReply(question: "How many dogs?", answer1: "Two dogs.", answer2: "Three dogs."))
        let fenced = RewriteReply.parse("```json\n{\"answer_2\": \"b\", \"question\": \"q\", \"answer_1\": \"a\"}\n```")
        #expect(try fenced.get() == RewriteReply(question: "q", answer1: "a", answer2: "b"))
        #expect(try RewriteReply.parse("```\n{\"question\": \"q\", \"answer_1\": \"a\", \"answer_2\": \"b\"}\n```").get().answer2 == "b")
    }

    @Test func malformedReplies() {
        #expect(problem("Sure! {\"question\": \"q\", \"answer_1\": \"a\", \"answer_2\": \"b\"}") == "the reply is not valid JSON")
        #expect(problem("```python\n{}\n```") == "the reply is not a single JSON object")
        #expect(problem(#"["q", "a", "b"]"#) == "the reply is not a JSON object")
        #expect(problem(#"{"question": "q", "answer_1": "a"}"#) == #""answer_2" is missing"#)
        #expect(problem(#"{"question": "q", "answer_1": "a", "answer_2": "b", "note": "x"}"#) == #"the JSON object has an unexpected key "note""#)
        #expect(problem(#"{"question": "q", "answer_1": "a", "answer_2": 2}"#) == #""answer_2" is not a string"#)
        #expect(problem(#"{"question": " ", "answer_1": "a", "answer_2": "b"}"#) == #""question" is empty"#)
        #expect(problem(#"{"question": "q", "answer_1": "a", "answer_1": "a", "answer_2": "b"}"#) == "the JSON object repeats a key")
        #expect(problem(#"{"question": "q", "answer_1": "Two  Dogs.", "answer_2": "two dogs"}"#)
                == #""answer_1" and "answer_2" are the same; they must differ"#)
    }
}
