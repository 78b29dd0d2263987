"""Section parity: the committed tiny models of both families, device against CPU."""
import json
import os
import shutil

from checks.harness import DEVICE, ROOT, THREADS, U_BF16, WORK, jsonl, must, read_safetensors, rel, svco

# ---------------------------------------------------------------- 2. parity, device vs CPU

FAMILIES = {
    "llava-1.5": {"policy": "Tests/TrainingTests/Fixtures/policy", "reference": "demo/tiny-llava"},
    "interleave": {"policy": "Tests/TrainingTests/Fixtures/interleave/policy", "reference": "Tests/TrainingTests/Fixtures/interleave/model"},
}
EVAL_DATA = "demo/mvc/eval.json"
TRAIN_DATA = "demo/mvc/train.json"


def both_devices(fn):
    """fn(device) on the device and on the CPU (the dry run compares the CPU with itself)."""
    return fn(DEVICE), fn("cpu")


def compare_scores(s, family, a, b):
    worst = 0.0
    for la, lb in zip(a, b):
        scale = max(1.0, max(abs(lb[k]) for k in ("cc", "rc", "cr", "rr", "nc", "nr")))
        for k, v in lb.items():
            if k != "index":
                worst = max(worst, rel(la[k], v, scale))
    s.row(f"{family}: score fp32, {len(a)} records x 6 log-probs + rewards, max |diff| / max(|log-prob|, 1)",
          f"{worst:.1e}", ok=len(a) == len(b) > 0 and worst <= 1e-4, limit="1e-4")


def train_once(family, device, bf16, folder, offload=False):
    out = os.path.join(WORK, "parity", f"{family}-{device.replace(':', '')}-{'bf16' if bf16 else 'fp32'}{'-offload' if offload else ''}")
    shutil.rmtree(out, ignore_errors=True)
    args = ["train", "--model-name-or-path", FAMILIES[family]["policy"], "--dataset-path", TRAIN_DATA, "--output-dir", out,
            "--max-steps", "1", "--per-device-train-batch-size", "2", "--gradient-accumulation-steps", "1",
            # lr 1 and Adam's eps 1: the update follows the gradient and dwarfs float32 rounding of the weights.
            "--learning-rate", "1", "--adam-epsilon", "1", "--lr-scheduler-type", "constant", "--warmup-ratio", "0",
            "--logging-steps", "1", "--save-strategy", "no", "--eval-strategy", "no", "--report-to", "none",
            # TF32 off: fp32 on CUDA means fp32 matmuls and convolutions (cuDNN's convolutions default to TF32).
            "--seed", "42", "--tf32", "False", "--device", device] + (["--bf16"] if bf16 else []) + (THREADS if device == "cpu" else []) \
        + (["--offload-optimizer-device", "cpu"] if offload else [])
    must(svco(args, 120), f"svco train ({family}, {device}{', bf16' if bf16 else ''})")
    return jsonl(os.path.join(out, "metrics.jsonl"))[0], read_safetensors(os.path.join(out, "model.safetensors"))


def metric_gap(a, b):
    """Largest gap over the shared numeric metrics, relative to the log-probs' scale (the metrics are
    log-probs, their differences and functions of them), and the key where it occurs."""
    scale = max([1.0] + [abs(v) for k, v in b.items() if "logps" in k])
    worst, where = 0.0, ""
    for k, v in b.items():
        if k in ("step", "epoch", "learning_rate") or not isinstance(v, (int, float)):
            continue
        own = max(abs(v), 1e-12) if k in ("loss", "grad_norm") else scale
        g = rel(a.get(k, float("nan")), v, own)
        if not (g <= worst):
            worst, where = g, k
    return worst, where


def weight_change_gap(after_a, after_b, before):
    """max over tensors of max|Δa − Δb| / max|Δb| (Δ = after − before), the tensor, and the count compared."""
    worst, where, n = 0.0, "", 0
    for name, (_, _, b) in after_b.items():
        if name not in before or name not in after_a:
            continue
        w0, a = before[name][2], after_a[name][2]
        db = [y - x for x, y in zip(w0, b)]
        top = max((abs(d) for d in db), default=0.0)
        if top == 0:
            continue  # frozen (the vision tower)
        n += 1
        g = max(abs((y - x) - d) for x, y, d in zip(w0, a, db)) / top
        if g > worst:
            worst, where = g, name
    return worst, where, n


def section_parity(s):
    os.makedirs(os.path.join(WORK, "parity"), exist_ok=True)
    for family, paths in FAMILIES.items():
        # svco score, fp32
        outs = []
        for device in (DEVICE, "cpu"):
            out = os.path.join(WORK, "parity", f"score-{family}-{device.replace(':', '')}.jsonl")
            must(svco(["score", "--model", paths["policy"], "--reference", paths["reference"], "--data", EVAL_DATA,
                       "--out", out, "--tf32", "false", "--device", device] + (THREADS if device == "cpu" else []), 90),
                 f"svco score ({family}, {device})")
            outs.append(jsonl(out))
        compare_scores(s, family, *outs)

        # one train step, fp32
        before = read_safetensors(os.path.join(ROOT, paths["policy"], "model.safetensors"))
        (ma, wa), (mb, wb) = both_devices(lambda d: train_once(family, d, False, paths))
        gap, key = metric_gap(ma, mb)
        s.row(f"{family}: train step fp32, loss/grad_norm relative, metrics vs log-prob scale (worst: {key or '-'})",
              f"{gap:.1e} (loss {mb['loss']:.6f}, grad_norm {mb['grad_norm']:.6f})", ok=gap <= 1e-4, limit="1e-4")
        wgap, wname, n = weight_change_gap(wa, wb, before)
        s.row(f"{family}: train step fp32, weights' change, max |diff| / max |change| over {n} trained tensors",
              f"{wgap:.1e} ({wname.split('.')[-2] + '.' + wname.split('.')[-1] if wname else '-'})", ok=n > 0 and wgap <= 1e-4, limit="1e-4")

        # the same step with AdamW's moments in (pinned) CPU memory, streamed through the device: bitwise
        if family == "llava-1.5":
            _, wo = train_once(family, DEVICE, False, paths, offload=True)
            diff = max((max(abs(x - y) for x, y in zip(wo[k][2], wa[k][2])) for k in wa if k in wo and wa[k][2]), default=float("nan"))
            s.row(f"{family}: train step fp32 on {DEVICE} with --offload-optimizer-device cpu, max |weight diff| vs without",
                  f"{diff:.1e}", ok=diff == 0 and set(wo) == set(wa), limit="0 (bitwise)")

        # one train step, bf16 autocast: within 8u of the magnitudes (both sides carry ~u per rounding
        # of each summed term; 8u leaves room for the different kernels' summation orders)
        (ha, hwa), (hb, hwb) = both_devices(lambda d: train_once(family, d, True, paths))
        gap, key = metric_gap(ha, hb)
        own_a, _ = metric_gap(ha, ma)
        own_b, _ = metric_gap(hb, mb)
        s.row(f"{family}: train step bf16 autocast, {DEVICE} vs cpu (worst: {key or '-'}; each vs its fp32: {own_a:.1e} / {own_b:.1e})",
              f"{gap:.1e}", ok=gap <= 8 * U_BF16, limit=f"8u = {8 * U_BF16:.2e}")
        wgap, wname, n = weight_change_gap(hwa, hwb, before)
        s.row(f"{family}: train step bf16, weights' change, max |diff| / max |change|", f"{wgap:.1e}",
              ok=n > 0 and wgap <= 32 * U_BF16, limit=f"32u = {32 * U_BF16:.3f}")

        # greedy generation, token ids
        image = os.path.join(ROOT, "demo/mvc/images/blue-circle-big.png")
        ids = []
        for device in (DEVICE, "cpu"):
            r = must(svco(["generate", "--model", paths["policy"], "--image", image, "--prompt", "What is in the picture?",
                           "--max-new-tokens", "24", "--print-token-ids", "--tf32", "false", "--device", device] + (THREADS if device == "cpu" else []), 60),
                     f"svco generate ({family}, {device})")
            ids.append(next((l for _, l in reversed(r.lines) if l.startswith("token_ids ")), "missing"))
        s.row(f"{family}: greedy generate, 24 new tokens, ids {DEVICE} == cpu", f"{len(json.loads(ids[1][10:])) if ids[1] != 'missing' else 0} tokens, "
              + ("identical" if ids[0] == ids[1] else f"differ: {ids[0][:60]} vs {ids[1][:60]}"), ok=ids[0] == ids[1] and ids[0] != "missing")

    # svco eval --benchmark mmvp --limit 20: the demo's instruction-tuned base model on its MMVP-style pairs
    answers, scores = [], []
    for device in (DEVICE, "cpu"):
        out = os.path.join(WORK, "parity", f"eval-{device.replace(':', '')}")
        shutil.rmtree(out, ignore_errors=True)
        must(svco(["eval", "--model", "demo/priors/base", "--benchmark", "mmvp", "--data-root", "demo/priors/mmvp", "--limit", "20",
                   "--output-dir", out, "--tf32", "false", "--device", device] + (THREADS if device == "cpu" else []), 90),
             f"svco eval ({device})")
        answers.append([r["response"] for r in jsonl(os.path.join(out, "mmvp.jsonl"))])
        scores.append(json.load(open(os.path.join(out, "summary.json")))["mmvp"])
    same = sum(a == b for a, b in zip(*answers))
    s.row(f"eval mmvp --limit 20 (demo/priors/base), answers and scores {DEVICE} == cpu",
          f"{same}/{len(answers[1])} answers equal, paired accuracy {scores[0].get('paired_accuracy')} vs {scores[1].get('paired_accuracy')}",
          ok=answers[0] == answers[1] and scores[0] == scores[1] and len(answers[1]) == 20)
