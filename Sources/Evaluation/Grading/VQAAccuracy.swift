/// The official VQA accuracy of one prediction against the human answers: for each of the n
/// leave-one-out subsets of the answers, min(#answers in the subset equal to the prediction / 3, 1),
/// averaged over the n subsets. Prediction and answers are compared after normalisation.
public struct VQAAccuracy: Sendable {
    public let normalizer: VQAAnswerNormalizer

    public init(normalizer: VQAAnswerNormalizer = VQAAnswerNormalizer()) {
        self.normalizer = normalizer
    }

    /// Accuracy of `prediction` against raw human `answers` (TextVQA has ten). Zero answers give 0.
    public func score(prediction: String, answers: [String]) -> Double {
        score(normalizedPrediction: normalizer.normalize(prediction), normalizedAnswers: answers.map(normalizer.normalize))
    }

    /// The same on already-normalised strings (lets a grader normalise each answer list once).
    public func score(normalizedPrediction: String, normalizedAnswers: [String]) -> Double {
        guard !normalizedAnswers.isEmpty else { return 0 }
        let matches = normalizedAnswers.reduce(0) { $0 + ($1 == normalizedPrediction ? 1 : 0) }
        var total = 0.0
        // Leaving out answer i removes one match exactly when answer i is itself a match.
        for answer in normalizedAnswers {
            let others = matches - (answer == normalizedPrediction ? 1 : 0)
            total += min(1.0, Double(others) / 3.0)
        }
        return total / Double(normalizedAnswers.count)
    }
}
