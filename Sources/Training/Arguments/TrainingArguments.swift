import Datasets

/// Everything `svco train` takes, with the defaults of the paper's recipe (SVCO-SPEC §5). Each field is
/// a flag: its name, aliases, help and range are declared once in `TrainingFlags.all`, which the
/// command line, `--config` YAML files and `--help` all read; its default is the value written here.
public struct TrainingArguments: Sendable, Equatable {
    public enum DataOrder: String, Sendable, CaseIterable { case shuffle, sequential }

    /// Where AdamW's moments live (accelerate's `--offload_optimizer_device`, DeepSpeed's
    /// `offload_optimizer.device`): with the parameters, or in CPU memory.
    public enum OffloadDevice: String, Sendable, CaseIterable { case none, cpu }

    /// When evaluations / checkpoints happen (HF's `IntervalStrategy`).
    public enum IntervalStrategy: String, Sendable, CaseIterable {
        /// Never.
        case no
        /// Every `eval_steps` / `save_steps` optimiser steps.
        case steps
        /// At the end of every epoch.
        case epoch
    }

    /// Where metrics go besides metrics.jsonl (HF's `report_to`).
    public enum ReportTarget: String, Sendable, CaseIterable {
        /// TensorBoard event files in `OUTPUT_DIR/runs` (the default).
        case tensorboard
        /// Weights & Biases: svco does not upload; it says so and writes TensorBoard files instead.
        case wandb
        /// Every integration svco has (= tensorboard), as HF's "all".
        case all
        /// Only metrics.jsonl.
        case none
    }

    // MARK: model, data, output
    public var modelNameOrPath = ""
    /// The reference's `--model_family_id`; checked against the model's config when given.
    public var modelFamilyId: SixSequenceCollator.Family?
    public var datasetPath = ""
    public var evalDatasetPath: String?
    public var imageRoot: String?
    public var allowOutsideRoot = false
    /// Drop (instead of refusing) records whose response is cut away entirely by `modelMaxLength`.
    public var dropUnscoredRecords = false
    public var outputDir = "output"
    public var runName: String?
    public var resumeFromCheckpoint: String?

    // MARK: objective
    public var loss = LossKind.svco
    /// The reference's `--svco True` (its only trainer); `--svco False` with `--loss svco` is refused.
    public var svco: Bool?
    public var betaImgWinVsNoImg = 0.1
    public var betaNoImgVsImgLose = 0.1
    public var betaImgLoseVsNoImg = 0.1
    public var betaNoImgVsImgWin = 0.1
    public var referenceFree = false

    // MARK: optimiser and schedule
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
    /// > 0 overrides the epoch count (HF's default -1: train `numTrainEpochs`).
    public var maxSteps = -1
    public var perDeviceTrainBatchSize = 1
    public var perDeviceEvalBatchSize = 1
    public var gradientAccumulationSteps = 4
    public var modelMaxLength = 128
    public var seed: UInt64 = 42
    public var dataOrder = DataOrder.shuffle

    // MARK: logging, evaluation, checkpoints
    public var loggingSteps = 1
    public var loggingFirstStep = false
    public var evalStrategy = IntervalStrategy.steps
    public var evalSteps = 31
    public var saveStrategy = IntervalStrategy.steps
    public var saveSteps = 31
    public var saveTotalLimit: Int?
    public var reportTo: [ReportTarget] = [.tensorboard]

    // MARK: model and precision
    public var fixVit = true
    public var fixMultimodalProjector = false
    /// HF Trainer's `--bf16`: forward passes under bfloat16 autocast, float32 master weights,
    /// gradients and optimiser state, no loss scaling. (Weights stored in bfloat16 would not train
    /// at the paper's lr 1e-6: such an update is below half a bfloat16 ulp of a typical weight.)
    public var bf16 = false
    /// HF Trainer's `--fp16`: float32 master weights, forward passes under float16 autocast, and
    /// dynamic loss scaling (`GradScaler`); steps with inf/NaN gradients are skipped.
    public var fp16 = false
    /// TF32 in CUDA matmuls and convolutions (HF's `--tf32`; nil leaves torch's default).
    public var tf32: Bool?
    /// Recompute decoder (and trained vision) layers in backward instead of keeping activations.
    public var gradientCheckpointing = false
    /// The reference's `--use_flash_attn`; attention always runs through torch's
    /// scaled_dot_product_attention, which picks its fused kernels itself.
    public var useFlashAttn = true
    /// HF's `--dataloader_num_workers`; batches are built on the training thread.
    public var dataloaderNumWorkers = 0
    /// A DeepSpeed JSON configuration (the reference's `--deepspeed ds_configs/zero3.json`): its ZeRO
    /// stage, gradient clipping and fp16/bf16 settings are read as DeepSpeed under HF Trainer reads them.
    public var deepspeed: String?
    /// How sequences are laid out for scoring (shared prefixes; `--no-prefix-sharing` for comparison).
    public var scoringLevers = ScoringLevers()
    /// TRL's `--precompute_ref_log_probs`: score the reference once before training (cached on disk) and
    /// never load it during training.
    public var precomputeRefLogProbs = false
    /// The cache file of `precomputeRefLogProbs` (default `OUTPUT_DIR/reference_logps.bin`).
    public var refLogProbsCache: String?
    /// ZeRO stage 0–3 (from `--zero-stage` or the DeepSpeed file): how a data-parallel run (several
    /// ranks under `svco launch`, torchrun, MPI or SLURM) shards optimiser state and gradients. A plain
    /// single process trains every stage exactly as stage 0.
    public var zeroStage = 0
    /// AdamW's moments in CPU memory, streamed through the device at each step (bitwise the same update).
    public var offloadOptimizerDevice = OffloadDevice.none
    /// HF's `--ddp_timeout` (seconds): bound on the rendezvous and on every collective of a
    /// data-parallel run (Gloo's and NCCL's timeout); a rank that dies or hangs makes the others stop
    /// with an error naming the collective within it. HF's default, 1800.
    public var ddpTimeout = 1800

    public init() {}

    /// β1…β4 of S-VCO's terms, in `SVCOLoss.terms` order.
    public var betas: [Double] {
        get { [betaImgWinVsNoImg, betaNoImgVsImgLose, betaImgLoseVsNoImg, betaNoImgVsImgWin] }
        set {
            precondition(newValue.count == 4, "S-VCO has four betas")
            (betaImgWinVsNoImg, betaNoImgVsImgLose, betaImgLoseVsNoImg, betaNoImgVsImgWin) = (newValue[0], newValue[1], newValue[2], newValue[3])
        }
    }

    /// Optimiser updates for `records` training records per rank (HF: micro-batches per epoch of a
    /// rank's dataloader, grouped by the accumulation count, at least one per epoch — so data parallel
    /// the count follows the global batch, per-device × world size × accumulation), or 0 when that is
    /// not a positive count.
    public func totalSteps(records: Int) -> Int {
        if maxSteps > 0 { return maxSteps }
        let batches = (records + perDeviceTrainBatchSize - 1) / max(1, perDeviceTrainBatchSize)
        let perEpoch = max(1, (batches + gradientAccumulationSteps - 1) / max(1, gradientAccumulationSteps))
        let steps = (Double(perEpoch) * numTrainEpochs).rounded(.up)
        // Flag validation keeps numTrainEpochs finite and small enough; this guards library callers.
        guard steps.isFinite, steps >= 1, steps < Double(Int32.max) else { return 0 }
        return Int(steps)
    }

    /// Whether metrics are logged after optimiser step `step` of `total`.
    func logs(at step: Int, of total: Int) -> Bool {
        (loggingFirstStep && step == 1) || (loggingSteps > 0 && (step % loggingSteps == 0 || step == total))
    }

    /// Whether the model is evaluated after `step` (`epochEnded`: the step finished an epoch).
    func evaluates(at step: Int, of total: Int, epochEnded: Bool) -> Bool {
        switch evalStrategy {
        case .no: false
        case .steps: evalSteps > 0 && (step % evalSteps == 0 || step == total)
        case .epoch: epochEnded || step == total
        }
    }

    /// Whether checkpoints are written at all, and after `step` (the final step included, as HF
    /// Trainer saves at the end whenever a save strategy is set, so a finished run resumes as finished).
    var savesCheckpoints: Bool {
        switch saveStrategy {
        case .no: false
        case .steps: saveSteps > 0
        case .epoch: true
        }
    }

    func saves(at step: Int, of total: Int, epochEnded: Bool) -> Bool {
        guard savesCheckpoints else { return false }
        if step == total { return true }
        return saveStrategy == .epoch ? epochEnded : step % saveSteps == 0
    }

    /// Whether TensorBoard event files are written.
    public var writesTensorBoard: Bool { reportTo.contains { $0 != .none } }
}
