/// The flags of `svco train`, each declared once. The command line, `--config` YAML files, `--help`
/// and the tests all read this list; a new hyperparameter is a field in `TrainingArguments` plus
/// one line here.
public enum TrainingFlags {
    public static var all: [TrainingFlag] { [
        // model, data, output
        .init("model_name_or_path", \.modelNameOrPath, value: "dir", required: true, "The model folder to start from (HF layout)."),
        .init("model_family_id", \.modelFamilyId,
              "The reference's model family (llava-1.5, llava-interleave); checked against the model's config."),
        .init("dataset_path", \.datasetPath, value: "file", required: true, "Training records (MVC JSON)."),
        .init("eval_dataset_path", \.evalDatasetPath, value: "file", "Evaluation records (MVC JSON)."),
        .init("image_root", \.imageRoot, value: "dir", "Folder relative image paths resolve against (default: each dataset file's folder)."),
        .init("allow_outside_root", \.allowOutsideRoot, "Allow image paths (after resolving symbolic links) outside the image root."),
        .init("drop_unscored_records", \.dropUnscoredRecords,
              "Drop records whose response --model-max-length cuts away entirely (otherwise they stop the run before step 1)."),
        .init("output_dir", \.outputDir, value: "dir", required: true, "Folder for checkpoints, metrics.jsonl, TensorBoard files and the final model."),
        .init("run_name", \.runName, value: "name", "A name for the run (printed at the start; HF passes it to W&B)."),
        .init("resume_from_checkpoint", \.resumeFromCheckpoint, value: "dir|latest",
              "A checkpoint folder, or 'latest' (the newest in --output-dir); a finished run resumes as finished."),

        // objective
        .init("loss", \.loss, "Objective: svco, dpo or mdpo (chosen image; β = --beta-img-win-vs-no-img-preference), or sft (matched pairs)."),
        .init("svco", \.svco, "The reference's S-VCO switch: true = --loss svco."),
        .init("beta_img_win_vs_no_img_preference", \.betaImgWinVsNoImg, aliases: ["beta_img_win_vs_no_img"],
              "β of −log σ(β Δ(cc, nc)); ≤ 0 switches the term off."),
        .init("beta_no_img_vs_img_lose_preference", \.betaNoImgVsImgLose, aliases: ["beta_no_img_vs_img_lose"], "β of −log σ(β Δ(nc, rc))."),
        .init("beta_img_lose_vs_no_img_preference", \.betaImgLoseVsNoImg, aliases: ["beta_img_lose_vs_no_img"], "β of −log σ(β Δ(rr, nr))."),
        .init("beta_no_img_vs_img_win_preference", \.betaNoImgVsImgWin, aliases: ["beta_no_img_vs_img_win"], "β of −log σ(β Δ(nr, cr))."),
        .init("reference_free", \.referenceFree, "Use a zero reference (no frozen reference model)."),

        // optimiser and schedule
        .init("learning_rate", \.learningRate, check: .atLeast(0), "AdamW's peak learning rate."),
        .init("weight_decay", \.weightDecay, check: .atLeast(0), "Decoupled weight decay (not on biases and norms)."),
        .init("adam_beta1", \.adamBeta1, check: .unitInterval, "AdamW's β1."),
        .init("adam_beta2", \.adamBeta2, check: .unitInterval, "AdamW's β2."),
        .init("adam_epsilon", \.adamEpsilon, check: .within(1e-30...1), "AdamW's ε."),
        .init("max_grad_norm", \.maxGradNorm, check: .atLeast(0), "Global gradient-norm clip (0 = off)."),
        .init("lr_scheduler_type", \.lrSchedulerType, "The learning-rate schedule."),
        .init("warmup_ratio", \.warmupRatio, check: .within(0...1), "Warm-up as a fraction of the optimiser steps."),
        .init("warmup_steps", \.warmupSteps, check: .atLeast(0), "Warm-up steps (> 0 wins over --warmup-ratio)."),
        .init("num_train_epochs", \.numTrainEpochs, check: .within(0...1_000_000), "Epochs (fractions allowed) unless --max-steps > 0."),
        .init("max_steps", \.maxSteps, "Optimiser steps; > 0 overrides --num-train-epochs (-1: train the epochs)."),
        .init("per_device_train_batch_size", \.perDeviceTrainBatchSize, check: .within(1...65536), "Records per micro-batch."),
        .init("per_device_eval_batch_size", \.perDeviceEvalBatchSize, check: .within(1...65536), "Records per evaluation batch."),
        .init("gradient_accumulation_steps", \.gradientAccumulationSteps, check: .within(1...1_000_000), "Micro-batches per optimiser step."),
        .init("model_max_length", \.modelMaxLength, check: .within(1...1_000_000), "Maximum tokens per sequence (an image placeholder counts one)."),
        .init("seed", \.seed, "Seed of the data order, mDPO's crops and torch's generator."),
        .init("data_order", \.dataOrder, "Seeded shuffle per epoch, or the file's order."),

        // logging, evaluation, checkpoints
        .init("logging_steps", \.loggingSteps, "Log the training metrics every N optimiser steps and at the last (≤ 0: never)."),
        .init("logging_first_step", \.loggingFirstStep, "Log the first step too."),
        .init("eval_strategy", \.evalStrategy, aliases: ["evaluation_strategy"], "When to evaluate on --eval-dataset-path."),
        .init("eval_steps", \.evalSteps, "Evaluate every N optimiser steps and after the last (≤ 0: never)."),
        .init("save_strategy", \.saveStrategy, "When to write checkpoint-<step> folders (the last step included)."),
        .init("save_steps", \.saveSteps, "Checkpoint every N optimiser steps (≤ 0: no checkpoints)."),
        .init("save_total_limit", \.saveTotalLimit, "Keep at most N checkpoints (the oldest are removed)."),
        .init("report_to", \.reportTo,
              "tensorboard (event files in OUTPUT_DIR/runs), none, or wandb (not uploaded: svco writes TensorBoard files instead)."),

        // model and precision
        .init("fix_vit", \.fixVit, "Freeze the vision tower."),
        .init("fix_multimodal_projector", \.fixMultimodalProjector, "Freeze the projector."),
        .init("bf16", \.bf16, "Mixed precision as HF Trainer's --bf16: float32 weights, bfloat16 autocast (the frozen reference holds its linear layers in bfloat16, as autocast uses them)."),
        .init("fp16", \.fp16, "Mixed precision as HF Trainer's --fp16: float32 weights, float16 autocast (the frozen reference's linear layers held in float16), dynamic loss scaling."),
        .init("tf32", \.tf32, "Allow TF32 in matmuls and convolutions on CUDA (no effect on the CPU)."),
        .init("gradient_checkpointing", \.gradientCheckpointing,
              "Recompute each layer's activations in the backward pass instead of keeping them (less memory, ~1/3 more compute)."),
        .init("use_flash_attn", \.useFlashAttn,
              "Accepted for the reference's script: attention always runs through torch's scaled_dot_product_attention, which picks fused kernels itself."),
        .init("dataloader_num_workers", \.dataloaderNumWorkers, check: .atLeast(0),
              "Accepted for the reference's script: batches are built on the training thread."),
        .init("prefix_sharing", \.scoringLevers.sharePrefixes,
              "Score each pair of sequences that share a prefix (image + prompt) in one row; exact. --no-prefix-sharing for comparison."),
        .init("precompute_ref_log_probs", \.precomputeRefLogProbs,
              "Score the reference model once before training (cached on disk, keyed by weights, tokenizer, template, max length, processor, precision); training never loads it."),
        .init("ref_log_probs_cache", \.refLogProbsCache, value: "file",
              "The cache of --precompute-ref-log-probs (default: OUTPUT_DIR/reference_logps.bin)."),
        .init("deepspeed", \.deepspeed, value: "file", "A DeepSpeed JSON file: its ZeRO stage, gradient_clipping, fp16/bf16 and offload_optimizer.device are read (\"auto\" as HF fills it)."),
        .init("zero_stage", \.zeroStage, check: .within(0...3),
              "ZeRO stage (DeepSpeed's numbering) of a data-parallel run: 0 all-reduces gradients, 1 shards AdamW state and float32 master weights, 2 also reduce-scatters gradients, 3 also shards the parameters (gathered per block). One process trains every stage as 0."),
        .init("offload_optimizer_device", \.offloadOptimizerDevice,
              "cpu keeps AdamW's moments (8 of the 16 bytes per trained parameter; 8/W per rank under ZeRO) in CPU memory, pinned on CUDA, and streams them through the device at each step: the same update bit for bit, 16 bytes of bus traffic per trained parameter per step. DeepSpeed's offload_optimizer.device."),
        .init("ddp_timeout", \.ddpTimeout, check: .within(1...604_800),
              "Seconds a data-parallel rank waits for the others (rendezvous and every collective) before stopping with an error."),
    ] }

    /// The flag answering to `name` (any spelling: `--learning-rate`, `--learning_rate`, an alias).
    public static func named(_ name: String) -> TrainingFlag? {
        let key = name.canonicalFlagName
        return all.first { $0.names.contains(key) }
    }

    /// The `--help` text: every flag with its value, default and help, wrapped short of ArgumentParser's
    /// 80 columns (it re-wraps longer lines).
    public static var helpText: String {
        let width = 78
        var lines = wrap("Every flag is also accepted in snake_case, as the reference's run script writes it "
                         + "(--learning_rate 1e-6), and as --name=value; booleans alone mean true and take a value too "
                         + "(--fp16, --fp16 True, --no_fix_vit).", indent: 0, width: width) + [""]
        let defaults = TrainingArguments()
        for flag in all {
            let value = flag.current(defaults)
            var head = "  " + flag.displayName + (flag.isBoolean ? " [true|false]" : " <\(flag.placeholder)>")
            head += flag.required ? "  (required)" : (value == "none" || value.isEmpty ? "" : "  (default: \(value))")
            lines.append(head)
            var help = flag.help
            if !flag.aliases.isEmpty { help += " Also " + flag.aliases.map { "--" + $0.replacingUnderscores }.joined(separator: ", ") + "." }
            lines += wrap(help, indent: 6, width: width)
        }
        lines.append("  --config <file.yaml>")
        lines += wrap("A flat YAML file of these flags by name (learning_rate: 1.0e-6); the command line overrides it.",
                      indent: 6, width: width)
        return lines.joined(separator: "\n")
    }

    static func wrap(_ text: String, indent: Int, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && indent + line.count + 1 + word.count > width {
                lines.append(String(repeating: " ", count: indent) + line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(String(repeating: " ", count: indent) + line) }
        return lines
    }
}
