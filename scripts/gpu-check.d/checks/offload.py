"""Sections offload-*: the whole 7B model of a family (every decoder layer) trained with AdamW's moments
in host memory (`--offload-optimizer-device cpu`), the way a 7B S-VCO run fits one 80 GB GPU (and
Interleave-7B one H200 with a live reference); where the scale section trained the same model in the
same mode (an H200), the difference is what the offload costs per step."""
import math
import os
import re
import shutil

from checks.harness import CPU_RUN, GIB, WORK, Failure, jsonl
from checks.memory import ACTIVATIONS, gpu_capacity_bytes, margins, memory_plan, parameter_counts, published_config
from checks.scale import SCALE, SCALE_RESULTS, STEPS, WARMUP, scale_data, scale_layers, scale_model, steady, train_steps

BF16_HELD = "frozen reference, linear layers bf16 (svco under --bf16)"


def offload_reference_mode(name):
    """svco's own reference (bf16-held under --bf16) when it leaves ACTIVATIONS with the moments in
    host memory, else precomputed log-probs."""
    config = published_config(name)
    _, trained, _, _ = memory_plan(config)
    return "live" if margins(config, gpu_capacity_bytes())[BF16_HELD] + 8 * trained >= ACTIVATIONS else "precomputed"


def section_offload(s, family):
    spec = SCALE[family]
    data = scale_data(family)
    layers, full = scale_layers(spec["config"])
    if layers < full and not CPU_RUN:
        # A second folder of this family (the whole model, bf16) beside the scale section's: disk first.
        need = 2 * sum(parameter_counts(published_config(spec["config"])).values()) * 1.1
        free = shutil.disk_usage(os.path.dirname(WORK) or "/").free
        if free < need:
            raise Failure(f"{need / 1e9:.0f} GB of disk needed for the whole model's folder, {free / 1e9:.0f} GB free")
    folder = scale_model(family, whole=True)
    mode = offload_reference_mode(spec["config"])
    r, mode, metrics = train_steps(s, family, folder, data, os.path.join(WORK, "offload", family), mode,
                                   extra=["--offload-optimizer-device", "cpu"])
    per_step = steady([t for t, l in r.lines if re.match(rf"step \d+/{STEPS} ", l)])
    rows = jsonl(metrics)
    peak = max((x.get("max_memory_allocated_gib", 0) for x in rows), default=0) * GIB if not CPU_RUN else r.maxrss
    moments = next((l for _, l in r.lines if l.startswith("optimizer state:")), "no 'optimizer state' line")
    s.row(f"{family}: {'tiny layers' if CPU_RUN else f'whole 7B ({full} decoder layers)'}, --offload-optimizer-device cpu, "
          f"reference {mode} ({'bf16-held' if mode == 'live' else 'log-probs precomputed'})", moments.split(": ", 1)[-1][:160],
          ok=moments.startswith("optimizer state:"))
    s.row(f"{family}: with offload, steady step ({STEPS} steps, first {WARMUP} not timed), records/s, peak memory",
          f"{per_step:.3f} s, {1 / per_step:.2f} records/s, {peak / GIB:.2f} GiB",
          ok=bool(rows) and all(math.isfinite(x.get("loss", float("nan"))) for x in rows))
    plain = SCALE_RESULTS.get(family)
    if plain and layers == full and plain["mode"] == mode:
        s.row(f"{family}: what the offload costs per optimiser step (vs the scale section's run)",
              f"{per_step - plain['seconds_per_step']:+.3f} s, peak memory {(peak - plain['peak_bytes']) / GIB:+.2f} GiB")
    else:
        s.note(f"{family}: no run without offload on the same model and reference mode in this run to compare with"
               + ("" if layers == full else f" (the scale section trained {layers} of {full} layers on this GPU)"))
