import Torch

extension TrainingArguments {
    /// The dtype the forward passes autocast to (`--fp16`, `--bf16`); nil runs them in the weights' dtype.
    public var autocastDType: DType? { fp16 ? .float16 : bf16 ? .bfloat16 : nil }
}
