"""gpu-check's acceptance run: every GPU check of svco in one process tree, one summary table, and the
results as JSON ($OUT/gpu-check.json when $OUT is set). Standard library only: the GPU machine has
torch and transformers but no Swift; the transformers peers (peer_step.py, peer_generate.py) run as
child processes. Started by `scripts/gpu-check run`, which sets LD_LIBRARY_PATH to that machine's torch.

Sections, in order (GPU_CHECK_ONLY=name[,name] runs some; each is time-boxed, and a failure is
recorded and the run goes on):
  env         nvidia-smi, torch / transformers / CUDA versions, disk and CPU count
  selftest    svco selftest on the device (and the CPU), the data-parallel selftests (NCCL world size 1
              on CUDA, Gloo with 2 ranks on the CPU)
  similarity  svco data similarity throughput (SigLIP-so400m + DINOv2-large, random weights)
  parity      the committed tiny models of both families, device vs CPU: svco score (fp32), one svco
              train step (fp32: loss, grad_norm, every metric, the weights' change; bf16 autocast within
              a bound from bf16's unit roundoff), greedy svco generate token ids, svco eval mmvp --limit 20
  memory      what a 7B policy, its AdamW state and its frozen reference need, against the GPU's memory
  scale-llava-1.5, peer-llava-1.5
              svco train at LLaVA-1.5-7B's shapes (random weights from configs/llava-hf via svco init):
              steady step time, records/s, peak memory, MFU from an analytic FLOP count; then the same
              steps on HF transformers + torch (peer_step.py) and the svco/peer ratios
  generate    batched greedy answering at LLaVA-1.5-7B's shapes: svco eval vs transformers generate
  scale-interleave, peer-interleave
              the same for LLaVA-Interleave-7B (after LLaVA-1.5's, so that a first run that runs out of
              budget still holds the paper's main model); GPU_CHECK_ONLY=scale (or peer) names both
  offload-llava-1.5, offload-interleave
              the whole 7B model with --offload-optimizer-device cpu (every layer, also on an 80 GB GPU):
              step time and peak memory, and what the offload costs where the scale section ran the same;
              GPU_CHECK_ONLY=offload names both

GPU_CHECK_DEVICE=cpu is the dry run: the same sections on the CPU with tiny models of the same image
shapes (576 / 729 image tokens) instead of 7B ones and few steps, so that every path runs without a GPU.
Other settings: GPU_CHECK_SVCO (the svco binary), GPU_CHECK_PYTHON (the peers' interpreter),
GPU_CHECK_WORK (scratch folder, default /tmp/gpu-check-work; 7B folders made there are reused by a
rerun), GPU_CHECK_BUDGET (seconds for the whole run, default 480: a rerun of some sections still fits the device session)."""
import os
import sys
import time

from checks.basics import section_env, section_selftest
from checks.generate import section_generate
from checks import harness
from checks.harness import DEVICE, ONLY, RESULTS, STARTED, SVCO, WORK, print_table, run_section, selected, write_json
from checks.memory import section_memory
from checks.offload import section_offload
from checks.parity import section_parity
from checks.scale import make_models_in_background, section_peer, section_scale
from checks.similarity import section_similarity


# (name, function, time box in seconds); the run as a whole stops at GPU_CHECK_BUDGET, and a section
# that would start with under 20 s left (under its box, when that is shorter) is recorded as skipped.
# Short sections that settle an issue on their own come first (similarity: a minute at most); then
# LLaVA-1.5 (the paper's main model), measured and compared before Interleave, so that a first run that
# runs out of budget still has that comparison. `GPU_CHECK_ONLY=scale` names both scale-* sections.
SECTIONS = [("env", section_env, 30), ("selftest", section_selftest, 120), ("similarity", section_similarity, 90),
            ("parity", section_parity, 150), ("memory", section_memory, 10),
            ("scale-llava-1.5", lambda s: section_scale(s, ["llava-1.5"]), 240),
            ("peer-llava-1.5", lambda s: section_peer(s, ["llava-1.5"]), 180),
            ("generate", section_generate, 120),
            ("scale-interleave", lambda s: section_scale(s, ["interleave"]), 240),
            ("peer-interleave", lambda s: section_peer(s, ["interleave"]), 180),
            ("offload-llava-1.5", lambda s: section_offload(s, "llava-1.5"), 200),
            ("offload-interleave", lambda s: section_offload(s, "interleave"), 200)]

# The sections that use a family's 7B folder (`svco init`: a minute or two of CPU and disk each). The
# folders are made in a background thread from the start of MAKE_FOLDERS_DURING on, a section that
# only checks correctness, so that the timed sections after it find them made.
FOLDER_USERS = {"llava-1.5": ["scale-llava-1.5", "peer-llava-1.5", "generate", "offload-llava-1.5"],
                "interleave": ["scale-interleave", "peer-interleave", "offload-interleave"]}
MAKE_FOLDERS_DURING = "parity"


def main():
    names = [s[0] for s in SECTIONS]
    unknown = [n for n in ONLY if n not in names and n not in [m.split("-", 1)[0] for m in names]]
    if unknown:
        print(f"GPU_CHECK_ONLY: unknown section(s) {', '.join(unknown)}; sections: {', '.join(s[0] for s in SECTIONS)}", file=sys.stderr)
        return 2
    if DEVICE not in ("cpu", "cuda") and not DEVICE.startswith("cuda:"):
        print(f"GPU_CHECK_DEVICE '{DEVICE}' is not cpu, cuda or cuda:N", file=sys.stderr)
        return 2
    os.makedirs(WORK, exist_ok=True)
    print(f"svco gpu-check on {DEVICE}: {SVCO}; scratch {WORK}; budget {harness.BUDGET:.0f} s", flush=True)
    for name, fn, limit in SECTIONS:
        if name == MAKE_FOLDERS_DURING:
            make_models_in_background([f for f, users in FOLDER_USERS.items() if any(selected(u) for u in users)])
        run_section(name, fn, limit)
    RESULTS["seconds"] = round(time.monotonic() - STARTED, 1)
    write_json()
    print_table()
    return 0 if all(s["status"] == "ok" for s in RESULTS["sections"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
