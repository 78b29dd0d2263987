"""Section generate: batched greedy answering at LLaVA-1.5-7B's shapes, svco eval against
transformers generate."""
import json
import os
import re
import shutil

from checks.harness import CPU_RUN, DEVICE, Failure, PYTHON, ROOT, THREADS, WORK, must, peer_env, run, svco
from checks.scale import scale_model

def section_generate(s):
    family = "llava-1.5"
    folder = scale_model(family)
    batch, batches, new = (2, 3, 8) if CPU_RUN else (8, 3, 64)
    out = os.path.join(WORK, "generate")
    shutil.rmtree(out, ignore_errors=True)
    r = must(svco(["eval", "--model", folder, "--benchmark", "mmvp", "--data-root", "demo/priors/mmvp", "--limit", str(batch * batches),
                   "--batch-size", str(batch), "--max-new-tokens", str(new), "--dtype", "bfloat16", "--output-dir", out,
                   "--device", DEVICE] + THREADS, 300), "svco eval at LLaVA-1.5-7B's shapes")
    marks = [t for t, l in r.lines if re.match(r"\s+\d+/\d+ answered", l)]
    if len(marks) < 2:
        raise Failure(f"svco eval printed {len(marks)} progress lines")
    # Batches after the first (its time holds the first CUDA kernels' start-up); every row runs to --max-new-tokens.
    svco_tps = (len(marks) - 1) * batch * new / (marks[-1] - marks[0])
    s.row(f"svco eval (mmvp questions, batch {batch}, {new} new tokens per row, bf16): new tokens/s after the first batch",
          f"{svco_tps:.1f}")
    cmd = [PYTHON, os.path.join(ROOT, "scripts/gpu-check.d/peer_generate.py"), "--model", folder, "--mmvp", os.path.join(ROOT, "demo/priors/mmvp"),
           "--device", DEVICE, "--batch-size", str(batch), "--batches", str(batches - 1), "--max-new-tokens", str(new)] \
        + (["--threads", "2"] if CPU_RUN else [])
    p = must(run(cmd, 300, env=peer_env()), "transformers generate")
    peer = json.loads(next(l for _, l in reversed(p.lines) if l.startswith("{")))
    s.row(f"transformers {peer['transformers']} generate (same batches, sdpa, bf16): new tokens/s after a warm-up batch",
          f"{peer['tokens_per_s']:.1f} (prompt widths {peer['prompt_widths']})")
    s.row("svco / transformers generation speed", f"{svco_tps / peer['tokens_per_s']:.2f}x")
