import Torch

/// What each command suggests when torch runs out of memory (printed under the error; see
/// `OutOfMemory`). Set at the start of `run()`, before any tensor work.
enum MemoryAdvice {
    static let training = "To fit: lower --per-device-train-batch-size (a higher --gradient-accumulation-steps keeps the global batch), "
        + "add --gradient-checkpointing or --bf16, use --precompute-ref-log-probs, keep AdamW's moments in CPU memory with "
        + "--offload-optimizer-device cpu, or shard over several GPUs with --zero-stage 2 or 3."
    static let batches = "To fit: lower --batch-size, or load the weights in half precision with --dtype bfloat16."
    static let weights = "To fit: load the weights in half precision with --dtype bfloat16."

    static func set(_ advice: String) { OutOfMemory.advice = advice }
}
