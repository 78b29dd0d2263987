/// What `svco train` does, with the defaults of the paper's recipe (SVCO-SPEC §5).
public struct TrainingArguments: Sendable, Equatable {
    public enum DataOrder: String, Sendable, CaseIterable { case shuffle, sequential }

    public var outputDir = "output"
    public var betas: [Double] = [0.1, 0.1, 0.1, 0.1]
    public var referenceFree = false
    public var learningRate = 1e-6
    public var weightDecay = 0.02
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.95
    public var adamEpsilon = 1e-8
    public var maxGradNorm = 1.0
    public var lrSchedulerType = LearningRateSchedule.Kind.cosine
    public var warmupRatio = 0.05
    public var warmupSteps = 0
    public var numTrainEpochs = 1.0
    /// > 0 overrides the epoch count.
    public var maxSteps = -1
    public var perDeviceTrainBatchSize = 1
    public var perDeviceEvalBatchSize = 1
    public var gradientAccumulationSteps = 4
    public var modelMaxLength = 128
    public var loggingSteps = 1
    public var evalSteps = 31
    public var saveSteps = 31
    public var saveTotalLimit: Int?
    public var seed: UInt64 = 42
    public var dataOrder = DataOrder.shuffle
    public var fixVit = true
    public var fixMultimodalProjector = false
    /// HF Trainer's `--bf16`: forward passes under bfloat16 autocast, float32 master weights,
    /// gradients and optimiser state, no loss scaling. (Weights stored in bfloat16 would not train
    /// at the paper's lr 1e-6: such an update is below half a bfloat16 ulp of a typical weight.)
    public var bf16 = false
    /// HF Trainer's `--fp16`: float32 master weights, forward passes under float16 autocast, and
    /// dynamic loss scaling (`GradScaler`); steps with inf/NaN gradients are skipped.
    public var fp16 = false
    /// Recompute decoder (and trained vision) layers in backward instead of keeping activations.
    public var gradientCheckpointing = false
    /// How sequences are laid out for scoring (shared prefixes etc.; `--no-prefix-sharing`).
    public var scoringLevers = ScoringLevers()

    public init() {}

    /// Optimiser updates for `records` training records (HF: micro-batches per epoch, grouped by
    /// the accumulation count, at least one).
    public func totalSteps(records: Int) -> Int {
        if maxSteps > 0 { return maxSteps }
        let batches = (records + perDeviceTrainBatchSize - 1) / max(1, perDeviceTrainBatchSize)
        let perEpoch = max(1, (batches + gradientAccumulationSteps - 1) / max(1, gradientAccumulationSteps))
        return Int((Double(perEpoch) * numTrainEpochs).rounded(.up))
    }
}
