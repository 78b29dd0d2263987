"""gpu-check's acceptance run: every GPU check of svco in one process tree, one summary table, and the
results as JSON ($OUT/gpu-check.json when $OUT is set). Standard library only: the GPU machine has
torch and transformers but no Swift; the transformers peers (peer_step.py, peer_generate.py) run as
child processes. Started by `scripts/gpu-check run`, which sets LD_LIBRARY_PATH to that machine's torch.

Sections, in order (GPU_CHECK_ONLY=name[,name] runs some; each is time-boxed, and a failure is
recorded and the run goes on):
  env         nvidia-smi, torch / transformers / CUDA versions, disk and CPU count
  selftest    svco selftest on the device (and the CPU), the data-parallel selftests (NCCL world size 1
              on CUDA, Gloo with 2 ranks on the CPU)
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
  similarity  svco data similarity throughput (SigLIP-so400m + DINOv2-large, random weights)

GPU_CHECK_DEVICE=cpu is the dry run: the same sections on the CPU with tiny models of the same image
shapes (576 / 729 image tokens) instead of 7B ones and few steps, so that every path runs without a GPU.
Other settings: GPU_CHECK_SVCO (the svco binary), GPU_CHECK_PYTHON (the peers' interpreter),
GPU_CHECK_WORK (scratch folder, default /tmp/gpu-check-work; 7B folders made there are reused by a
rerun), GPU_CHECK_BUDGET (seconds for the whole run, default 480: a rerun of some sections still fits the device session)."""
import array
import json
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEVICE = os.environ.get("GPU_CHECK_DEVICE", "cuda")
CPU_RUN = DEVICE == "cpu"
ONLY = [s for s in os.environ.get("GPU_CHECK_ONLY", "").split(",") if s]
WORK = os.environ.get("GPU_CHECK_WORK", "/tmp/gpu-check-work")
BUDGET = float(os.environ.get("GPU_CHECK_BUDGET", "480"))
STARTED = time.monotonic()
PEAK_BF16_FLOPS = 989e12  # H100/H200 SXM dense bf16 tensor-core peak
U_BF16 = 2.0 ** -8        # bf16 unit roundoff (8 significand bits)
GIB = 1024 ** 3


def default_svco():
    for p in (".gpu/svco", ".build/release/svco", ".build/debug/svco"):
        if os.access(os.path.join(ROOT, p), os.X_OK):
            return os.path.join(ROOT, p)
    return os.path.join(ROOT, ".gpu/svco")


SVCO = os.environ.get("GPU_CHECK_SVCO", default_svco())
PYTHON = os.environ.get("GPU_CHECK_PYTHON", sys.executable)
THREADS = ["--threads", "2"] if CPU_RUN else []


def peer_env():
    env = dict(os.environ)
    extra = os.path.join(ROOT, ".deps", "gpu-check-py")
    if CPU_RUN and os.path.isdir(extra):
        env["PYTHONPATH"] = extra + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


# ---------------------------------------------------------------- processes

class Ran:
    def __init__(self, rc, lines, seconds, maxrss, timed_out):
        self.rc, self.lines, self.seconds, self.maxrss, self.timed_out = rc, lines, seconds, maxrss, timed_out

    @property
    def text(self):
        return "\n".join(l for _, l in self.lines)

    def tail(self, n=6):
        return " | ".join(l for _, l in self.lines[-n:])


def run(cmd, timeout, env=None, stop=None, cwd=ROOT):
    """Runs cmd (stdout and stderr together), timestamping each line; kills its process group after
    `timeout` seconds or once stop(lines) returns True. Returns a Ran (maxrss in bytes, from wait4)."""
    timeout = max(1.0, min(timeout, remaining()))
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd, env=env,
                         start_new_session=True, text=True, errors="replace")
    state = {"timed_out": False, "stopped": False}

    def kill(reason):
        # No p.poll() here: it could reap the child before wait4 below reads its resource usage.
        state[reason] = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill, ("timed_out",))
    timer.start()
    lines = []
    for line in p.stdout:
        lines.append((time.monotonic() - start, line.rstrip("\n")))
        if stop is not None and not state["stopped"] and stop(lines):
            kill("stopped")
    _, status, usage = os.wait4(p.pid, 0)
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    rc = 0 if state["stopped"] else p.returncode
    timed_out = state["timed_out"] and not state["stopped"] and p.returncode != 0
    return Ran(rc, lines, time.monotonic() - start, usage.ru_maxrss * 1024, timed_out)


def remaining():
    return BUDGET - (time.monotonic() - STARTED)


def svco(args, timeout, **kw):
    return run([SVCO] + args, timeout, **kw)


def must(r, what):
    if r.timed_out:
        raise Failure(f"{what}: timed out after {r.seconds:.0f} s ({r.tail(3)})")
    if r.rc != 0:
        raise Failure(f"{what}: exit {r.rc}: {r.tail(4)}")
    return r


class Failure(Exception):
    pass


# ---------------------------------------------------------------- results

RESULTS = {"device": DEVICE, "dry_run": CPU_RUN, "svco": SVCO, "started_unix": time.time(), "sections": {}}


class Section:
    def __init__(self, name):
        self.name, self.rows, self.notes = name, [], []

    def row(self, check, value, ok=True, limit=""):
        self.rows.append({"check": check, "value": value, "limit": limit, "ok": bool(ok)})
        print(f"  [{'ok' if ok else 'FAIL'}] {check}: {value}" + (f"  (limit {limit})" if limit else ""), flush=True)

    def note(self, text):
        self.notes.append(text)
        print("  note: " + text, flush=True)


def run_section(name, fn, limit):
    global BUDGET
    if not selected(name):
        return
    section = Section(name)
    print(f"== {name}", flush=True)
    start = time.monotonic()
    status, error = "ok", None
    if remaining() < min(20, limit):  # the arithmetic (10 s box) always fits
        status, error = "skipped", f"the run's budget ({BUDGET:.0f} s) is spent"
    else:
        saved, BUDGET = BUDGET, min(BUDGET, time.monotonic() - STARTED + limit)
        try:
            fn(section)
        except Failure as e:
            status, error = "fail", str(e)
        except Exception as e:  # a bug here must not stop the later sections either
            status, error = "fail", f"{type(e).__name__}: {e}"
        finally:
            timed_out = remaining() <= 1
            BUDGET = saved
        if status == "ok" and timed_out:
            status, error = "fail", f"section time box of {limit:.0f} s reached"
    if status == "ok" and any(not r["ok"] for r in section.rows):
        status = "fail"
    seconds = time.monotonic() - start
    if error:
        print(f"  {status}: {error}", flush=True)
    RESULTS["sections"][name] = {"status": status, "seconds": round(seconds, 1), "error": error,
                                 "rows": section.rows, "notes": section.notes}
    write_json()


def write_json():
    out = os.environ.get("OUT")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "gpu-check.json"), "w") as f:
            json.dump(RESULTS, f, indent=1)


def print_table():
    print("\n== summary: svco gpu-check on " + DEVICE + (" (dry run: tiny models, few steps)" if CPU_RUN else ""))
    w1 = max([len(n) for n in RESULTS["sections"]] + [7])
    rows = []
    for name, s in RESULTS["sections"].items():
        rows.append((name, f"{s['status']} ({s['seconds']:.0f} s)", "", ""))
        for r in s["rows"]:
            rows.append(("", ("ok  " if r["ok"] else "FAIL") + " " + r["check"], str(r["value"]), r["limit"]))
        if s["error"]:
            rows.append(("", "error", s["error"][:160], ""))
    w2 = max(len(r[1]) for r in rows) if rows else 10
    for a, b, c, d in rows:
        print(f"{a:<{w1}}  {b:<{w2}}  {c}" + (f"   [{d}]" if d else ""))
    bad = [n for n, s in RESULTS["sections"].items() if s["status"] != "ok"]
    print(f"sections: {len(RESULTS['sections']) - len(bad)} ok" + (f", not ok: {', '.join(bad)}" if bad else ""))
    print(f"total {time.monotonic() - STARTED:.0f} s")


# ---------------------------------------------------------------- small readers

def read_safetensors(path):
    """name -> (dtype, shape, list of floats) for F32/BF16/F16 tensors (no numpy or torch needed)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[a:b]
        if info["dtype"] == "F32":
            values = array.array("f")
            values.frombytes(raw)
        elif info["dtype"] == "BF16":
            halves = array.array("H")
            halves.frombytes(raw)
            values = array.array("f")
            values.frombytes(b"".join(struct.pack("<I", h << 16) for h in halves))
        else:
            continue
        out[name] = (info["dtype"], info["shape"], values)
    return out


def jsonl(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def rel(a, b, scale):
    return abs(a - b) / max(scale, 1e-30)


# ---------------------------------------------------------------- 1. environment and selftests

def section_env(s):
    r = run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"], 20) \
        if shutil.which("nvidia-smi") else None
    s.row("nvidia-smi", r.text.strip() if r and r.rc == 0 else "not available", ok=CPU_RUN or (r is not None and r.rc == 0))
    probe = ("import json, torch\n"
             "d = {'torch': torch.__version__, 'cuda': torch.version.cuda, 'available': torch.cuda.is_available()}\n"
             "if d['available']:\n"
             "    p = torch.cuda.get_device_properties(0); d.update(gpu=p.name, memory_gib=round(p.total_memory / 2**30, 1), capability=f'{p.major}.{p.minor}')\n"
             "try:\n    import transformers; d['transformers'] = transformers.__version__\n"
             "except Exception as e:\n    d['transformers'] = 'missing: ' + str(e)\n"
             "print(json.dumps(d))")
    r = run([PYTHON, "-c", probe], 60, env=peer_env())
    info = json.loads(r.lines[-1][1]) if r.rc == 0 and r.lines else {}
    RESULTS["environment"] = info
    s.row("python torch / CUDA", f"{info.get('torch')} / {info.get('cuda')} / available {info.get('available')}",
          ok=r.rc == 0 and (CPU_RUN or info.get("available")))
    if info.get("gpu"):
        s.row("GPU", f"{info['gpu']}, {info['memory_gib']} GiB, sm {info['capability']}")
    s.row("transformers", info.get("transformers", "?"), ok="missing" not in str(info.get("transformers", "missing")))
    free = shutil.disk_usage(WORK if os.path.isdir(WORK) else "/tmp").free / GIB
    s.row("disk free for scratch / CPUs", f"{free:.0f} GiB / {os.cpu_count()}")
    s.row("svco binary", SVCO, ok=os.access(SVCO, os.X_OK))


def selftest_counts(r):
    m = re.search(r"(\d+) passed, (\d+) failed", r.text)
    return (int(m.group(1)), int(m.group(2))) if m else (0, -1)


def section_selftest(s):
    runs = [("selftest --device " + DEVICE, ["selftest", "--device", DEVICE] + THREADS)]
    if not CPU_RUN:
        runs.append(("selftest --device cpu", ["selftest", "--device", "cpu", "--threads", "16"]))
        runs.append(("distributed, NCCL, 1 rank", ["launch", "--nproc-per-node", "1", "--master-port", "29531", "--", SVCO,
                                                   "selftest", "--distributed", "--device", "cuda"]))
    runs.append(("distributed, Gloo, 2 ranks (CPU)", ["launch", "--nproc-per-node", "2", "--master-port", "29532", "--", SVCO,
                                                      "selftest", "--distributed", "--device", "cpu", "--threads", "1" if CPU_RUN else "4"]))
    for label, args in runs:
        r = svco(args, 180)
        passed, failed = selftest_counts(r)
        failing = [l for _, l in r.lines if l.startswith("FAIL") or l.startswith("fail ")]
        s.row(label, f"{passed} passed, {failed} failed, {r.seconds:.0f} s" + (f"; {failing[0][:120]}" if failing else "")
              + ("" if r.rc == 0 else f"; exit {r.rc}: {r.tail(2)}"), ok=r.rc == 0 and failed == 0 and passed > 0)


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


def train_once(family, device, bf16, folder):
    out = os.path.join(WORK, "parity", f"{family}-{device.replace(':', '')}-{'bf16' if bf16 else 'fp32'}")
    shutil.rmtree(out, ignore_errors=True)
    args = ["train", "--model-name-or-path", FAMILIES[family]["policy"], "--dataset-path", TRAIN_DATA, "--output-dir", out,
            "--max-steps", "1", "--per-device-train-batch-size", "2", "--gradient-accumulation-steps", "1",
            # lr 1 and Adam's eps 1: the update follows the gradient and dwarfs float32 rounding of the weights.
            "--learning-rate", "1", "--adam-epsilon", "1", "--lr-scheduler-type", "constant", "--warmup-ratio", "0",
            "--logging-steps", "1", "--save-strategy", "no", "--eval-strategy", "no", "--report-to", "none",
            # TF32 off: fp32 on CUDA means fp32 matmuls and convolutions (cuDNN's convolutions default to TF32).
            "--seed", "42", "--tf32", "False", "--device", device] + (["--bf16"] if bf16 else []) + (THREADS if device == "cpu" else [])
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


# ---------------------------------------------------------------- 3. memory arithmetic

def defaults(config):
    """The 7B configs leave fields to transformers' defaults (LlamaConfig, Qwen2Config, CLIP/SigLIP)."""
    t, v = dict(config["text_config"]), dict(config["vision_config"])
    qwen = t["model_type"] == "qwen2"
    t.setdefault("hidden_size", 4096)
    t.setdefault("intermediate_size", 22016 if qwen else 11008)
    t.setdefault("num_hidden_layers", 32)
    t.setdefault("num_attention_heads", 32)
    t.setdefault("num_key_value_heads", t["num_attention_heads"])
    t.setdefault("tie_word_embeddings", config.get("tie_word_embeddings", False) if not qwen else False)
    clip = v["model_type"] == "clip_vision_model"
    v.setdefault("num_channels", 3)
    v.setdefault("image_size", 224)
    layer = config.get("vision_feature_layer", -2)
    layers_run = v["num_hidden_layers"] + 1 + layer if layer < 0 else layer  # svco stops at the feature layer
    return {"t": t, "v": v, "qwen": qwen, "clip": clip, "layers_run": layers_run,
            "image_positions": (v["image_size"] // v["patch_size"]) ** 2,
            "vision_tokens": (v["image_size"] // v["patch_size"]) ** 2 + (1 if clip else 0)}


def parameter_counts(config):
    c = defaults(config)
    t, v = c["t"], c["v"]
    d, iv = v["hidden_size"], v["intermediate_size"]
    patches = (v["image_size"] // v["patch_size"]) ** 2
    embed = v["num_channels"] * v["patch_size"] ** 2 * d + (0 if c["clip"] else d) + (patches + (1 if c["clip"] else 0)) * d + (d if c["clip"] else 0)
    per_layer = 4 * (d * d + d) + d * iv + iv + iv * d + d + 4 * d
    vision = embed + v["num_hidden_layers"] * per_layer + 2 * d + (2 * d if c["clip"] else 0)  # CLIP's pre_layrnorm
    h, i = t["hidden_size"], t["intermediate_size"]
    hd = h // t["num_attention_heads"]
    kv = t["num_key_value_heads"] * hd
    attn = h * h + 2 * h * kv + h * h + ((h + 2 * kv) if c["qwen"] else 0)
    decoder = t["num_hidden_layers"] * (attn + 3 * h * i + 2 * h) + h
    vocab = t["vocab_size"]
    language = vocab * h + decoder + (0 if t.get("tie_word_embeddings") else vocab * h)
    projector = d * h + h + h * h + h
    return {"vision": vision, "projector": projector, "language": language}


# Exact totals summed module by module (README "Memory"; scripts/memory-table.py, checked against transformers).
PUBLISHED_TOTALS = {"llava-1.5-7b-hf": 7_063_427_072, "llava-interleave-qwen-7b-hf": 8_141_100_576}


def gpu_capacity_bytes():
    info = RESULTS.get("environment", {})
    if info.get("memory_gib"):
        return info["memory_gib"] * GIB
    return 143_771 * 1024 ** 2  # an H200 as nvidia-smi reports it (the dry run assumes one)


def memory_plan(name):
    config = json.load(open(os.path.join(ROOT, "configs/llava-hf", name, "config.json")))
    n = parameter_counts(config)
    trained = n["projector"] + n["language"]
    states = {"weights fp32": 4 * trained, "gradients fp32": 4 * trained, "AdamW moments": 8 * trained,
              "frozen vision tower fp32": 4 * n["vision"]}
    # Under --bf16 svco's reference holds its linear layers in bfloat16 (autocast rounds them so anyway);
    # its input embedding and RMSNorm weights stay float32.
    t = defaults(config)["t"]
    not_linear = t["vocab_size"] * t["hidden_size"] + (2 * t["num_hidden_layers"] + 1) * t["hidden_size"]
    options = {"frozen reference fp32": 4 * trained,
               "frozen reference, linear layers bf16 (svco under --bf16)": 2 * trained + 2 * not_linear,
               "precomputed reference log-probs": 0}
    return n, trained, states, options


def section_memory(s):
    capacity = gpu_capacity_bytes()
    reserve = 1.5 * GIB  # CUDA context, cuBLAS workspaces, allocator slack
    s.note(f"capacity {capacity / GIB:.1f} GiB ({'measured' if RESULTS.get('environment', {}).get('memory_gib') else 'an H200, assumed'}), "
           f"{reserve / GIB:.1f} GiB kept for the CUDA context and workspaces; GB = 1e9 B")
    plans = {}
    for name in PUBLISHED_TOTALS:
        n, trained, states, options = memory_plan(name)
        total = sum(n.values())
        s.row(f"{name}: parameters (vision + projector + language) = published count",
              f"{n['vision']:,} + {n['projector']:,} + {n['language']:,} = {total:,}", ok=total == PUBLISHED_TOTALS[name])
        base = sum(states.values())
        s.row(f"{name}: trained {trained / 1e9:.2f} B x 16 B (fp32 weights 4 + grads 4 + AdamW 8) + tower {n['vision'] / 1e9:.2f} B x 4",
              f"{base / 1e9:.1f} GB = {base / GIB:.1f} GiB")
        s.row(f"{name}: bf16 autocast weight cache (2 B x trained, forward only; freed before the gradients exist)",
              f"{2 * trained / 1e9:.1f} GB (not on top of the gradients' peak)")
        fits = {}
        for option, extra in options.items():
            need = base + extra
            margin = capacity - reserve - need
            fits[option] = margin
            s.row(f"{name}: + {option}", f"{need / GIB:.1f} GiB, " + (f"fits with {margin / GIB:.1f} GiB for activations" if margin > 0
                                                                         else f"does not fit: {-margin / GIB:.1f} GiB over"))
        plans[name] = fits
    RESULTS["memory_plan"] = {k: {o: round(m / GIB, 2) for o, m in v.items()} for k, v in plans.items()}


def reference_mode(name):
    """Live fp32 reference when it leaves at least 6 GiB for activations, else precomputed log-probs
    (decided on the float32 reference, which the transformers peer holds, so both run the same mode)."""
    if "memory_plan" not in RESULTS:
        section = Section("memory")
        section_memory_quiet(section)
    return "live" if RESULTS["memory_plan"][name]["frozen reference fp32"] >= 6 else "precomputed"


def section_memory_quiet(section):
    saved = sys.stdout
    sys.stdout = open(os.devnull, "w")
    try:
        section_memory(section)
    finally:
        sys.stdout.close()
        sys.stdout = saved


# ---------------------------------------------------------------- 3-5. the 7B shapes

SCALE = {
    "llava-1.5": {"config": "llava-1.5-7b-hf", "tokenizer": "demo/tiny-llava", "image_size": 336},
    "interleave": {"config": "llava-interleave-qwen-7b-hf", "tokenizer": "Tests/TrainingTests/Fixtures/interleave/model", "image_size": 384},
}
STEPS, WARMUP = (3, 1) if CPU_RUN else (8, 3)
SCALE_IMAGES = os.path.join(ROOT, "demo/mvc")


def scale_model(family):
    """A random-weight folder of the family's 7B shapes (tiny layers in the dry run, the same image
    shapes), made once by `svco init` and reused. The configs keep every shape (vocabulary included)
    but take the small committed tokenizer's special ids, so that no 7B tokenizer is needed."""
    spec = SCALE[family]
    folder = os.path.join(WORK, "models", family + ("-tiny" if CPU_RUN else "-7b"))
    if os.path.exists(os.path.join(folder, "model.safetensors")):
        return folder
    config = json.load(open(os.path.join(ROOT, "configs/llava-hf", spec["config"], "config.json")))
    tok_config = json.load(open(os.path.join(ROOT, spec["tokenizer"], "config.json")))
    config["image_token_index"] = tok_config["image_token_index"]
    config["pad_token_id"] = tok_config["pad_token_id"]
    config["text_config"]["pad_token_id"] = tok_config["pad_token_id"]
    for k in ("bos_token_id", "eos_token_id"):
        config["text_config"].pop(k, None)
    if CPU_RUN:
        config["vision_config"].update(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4)
        config["text_config"].update(hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                                     num_key_value_heads=4, max_position_embeddings=4096)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    config_path = folder + ".config.json"
    json.dump(config, open(config_path, "w"), indent=1)
    shutil.rmtree(folder, ignore_errors=True)
    must(svco(["init", "--config", config_path, "--out", folder, "--dtype", "bfloat16", "--tokenizer-from",
               os.path.join(ROOT, spec["tokenizer"])], 300), f"svco init ({family})")
    # The processor at the real image size; generation without a stop token (every answer runs to
    # --max-new-tokens on both sides, so that tokens/s counts the same tokens).
    pre = json.load(open(os.path.join(folder, "preprocessor_config.json")))
    size = spec["image_size"]
    if "crop_size" in pre:
        pre["size"], pre["crop_size"] = {"shortest_edge": size}, {"height": size, "width": size}
    else:
        pre["size"] = {"height": size, "width": size}
    json.dump(pre, open(os.path.join(folder, "preprocessor_config.json"), "w"), indent=1)
    json.dump({"pad_token_id": tok_config["pad_token_id"]}, open(os.path.join(folder, "generation_config.json"), "w"))
    return folder


def scale_data(family):
    """MVC records of the real shape: the demo's pictures (resized by the processor to 336/384 px) and
    prompts of about 60 text tokens per image row. LLaVA-1.5's committed tokenizer has whole words, so
    its records get a longer system prompt and question; the interleave fixture's tokenizer is nearly
    character-level, so the demo's own short prompts already come to that length. Image paths stay
    relative to SCALE_IMAGES (--image-root)."""
    path = os.path.join(WORK, f"scale-records-{family}.json")
    records = json.load(open(os.path.join(ROOT, TRAIN_DATA)))[:max(STEPS, 8)]
    if family == "llava-1.5":
        for r in records:
            r["system_prompt"] = ("You are a careful assistant. Look at the whole picture before you answer, and answer "
                                  "in one short sentence about the colour, the shape, the size or the place of the objects.")
            r["instruction_prompt"] = "Please look at the picture. " + r["instruction_prompt"]
    json.dump(records, open(path, "w"), indent=1)
    return path


def model_shape(folder):
    config = json.load(open(os.path.join(folder, "config.json")))
    return defaults(config)


def decoder_flops(c, rows, width, positions):
    """Forward matmul FLOPs of the decoder over `rows` rows of `width` (`positions` = rows * width):
    projections and MLP per position, attention scores and values over the whole width x width square
    (what masked sdpa executes)."""
    t = c["t"]
    h, i, L = t["hidden_size"], t["intermediate_size"], t["num_hidden_layers"]
    hd = h // t["num_attention_heads"]
    kv = t["num_key_value_heads"] * hd
    linear = 2 * (h * h + 2 * h * kv + h * h + 3 * h * i)
    attention = 2 * 2 * width * width * t["num_attention_heads"] * hd
    return L * (positions * linear + rows * attention)


def vision_flops(c, encodes, layers):
    v = c["v"]
    d, iv, n = v["hidden_size"], v["intermediate_size"], c["vision_tokens"]
    patch = 2 * c["image_positions"] * v["num_channels"] * v["patch_size"] ** 2 * d
    per_layer = 2 * n * (4 * d * d + 2 * d * iv) + 2 * 2 * n * n * d
    return encodes * (patch + layers * per_layer)


def projector_flops(c, images):
    d, h = c["v"]["hidden_size"], c["t"]["hidden_size"]
    return images * 2 * c["image_positions"] * (d * h + h * h)


def svco_step_flops(c, work, live_reference, checkpointing=True):
    """Executed matmul FLOPs of one svco step from its printed work line: the policy's decoder forward,
    its recomputation (gradient checkpointing) and backward (2x); the output layer at scored positions
    only (forward + backward 3x); the projector 3x; the frozen tower once per distinct image; a live
    reference adds one forward of decoder, output layer and projector (it reuses the tower's features)."""
    dec = sum(decoder_flops(c, r, w, r * w) for r, w, _ in work["forwards"])
    out = 2 * work["scored"] * c["t"]["hidden_size"] * c["t"]["vocab_size"]
    proj = projector_flops(c, sum(img for _, _, img in work["forwards"]) // c["image_positions"])
    vis = vision_flops(c, work["images"], c["layers_run"])
    total = (4 if checkpointing else 3) * dec + 3 * out + 3 * proj + vis
    if live_reference:
        total += dec + out + proj
    return total


def peer_step_flops(c, peer, live_reference, checkpointing=True):
    """The same count for the peer: transformers computes logits at every position and its tower runs
    all layers, once per image row, for the policy and again for a live reference."""
    dec, out, images = 0, 0, 0
    for rows, width in peer["forwards"]:
        dec += decoder_flops(c, rows, width, rows * width)
        out += 2 * rows * width * c["t"]["hidden_size"] * c["t"]["vocab_size"]
    images = peer["vision_encodes"]
    proj = projector_flops(c, images)
    vis = vision_flops(c, images, peer["vision_layers_run"])
    total = (4 if checkpointing else 3) * dec + 3 * out + 3 * proj + vis
    if live_reference:
        total += dec + out + proj + vis
    return total


WORK_RE = re.compile(r"forward (\d+)x(\d+) \((\d+) image positions\)")


def parse_work(text):
    line = next((l for l in text.splitlines() if l.startswith("scoring work of step")), None)
    if line is None:
        raise Failure("svco train printed no 'scoring work' line")
    scored = int(re.search(r"; (\d+) scored tokens", line).group(1))
    images = int(re.search(r"; (\d+) distinct images", line).group(1))
    return {"forwards": [(int(a), int(b), int(c)) for a, b, c in WORK_RE.findall(line)], "scored": scored, "images": images, "line": line}


def steady(times):
    """Seconds per step after the warm-up steps, from the times the step lines arrived."""
    if len(times) <= WARMUP:
        raise Failure(f"only {len(times)} steps finished")
    return (times[-1] - times[WARMUP - 1]) / (len(times) - WARMUP) if WARMUP > 0 else times[-1] / len(times)


SCALE_RESULTS = {}


def section_scale(s, families):
    for family in families:
        spec = SCALE[family]
        try:
            data = scale_data(family)
            made = time.monotonic()
            folder = scale_model(family)
            mode = reference_mode(spec["config"])
            s.row(f"{family}: model folder ({'tiny layers, real image shapes' if CPU_RUN else '7B shapes, random bf16 weights'})",
                  f"{os.path.basename(folder)}, ready in {time.monotonic() - made:.0f} s; reference {mode}")
            out = os.path.join(WORK, "scale", family)
            shutil.rmtree(out, ignore_errors=True)
            metrics = os.path.join(out, "metrics.jsonl")

            def finished(lines):
                # Stop once the last step's metrics are written: saving the final 7B model (28 GB) is not
                # part of the check.
                if not any(l.startswith(f"step {STEPS}/{STEPS}") for _, l in lines[-3:]):
                    return False
                for _ in range(100):
                    if os.path.exists(metrics) and len(jsonl(metrics)) >= STEPS:
                        return True
                    time.sleep(0.1)
                return True

            args = ["train", "--model-name-or-path", folder, "--dataset-path", data, "--image-root", SCALE_IMAGES, "--output-dir", out,
                    "--bf16", "--gradient-checkpointing", "--max-steps", str(STEPS), "--per-device-train-batch-size", "1",
                    "--gradient-accumulation-steps", "1", "--learning-rate", "1e-6", "--logging-steps", "1",
                    "--save-strategy", "no", "--eval-strategy", "no", "--report-to", "none", "--model-max-length", "128",
                    "--device", DEVICE] + (["--precompute-ref-log-probs"] if mode == "precomputed" else []) + THREADS
            r = svco(args, 400, stop=finished)
            if r.rc != 0 and mode == "live" and "out of memory" in r.text.lower():
                s.row(f"{family}: svco with a live fp32 reference", "out of memory (the arithmetic said it fits): "
                      + next((l for _, l in r.lines if "out of memory" in l.lower()), "")[:200], ok=False)
                mode = "precomputed"
                shutil.rmtree(out, ignore_errors=True)
                r = svco(args + ["--precompute-ref-log-probs"], 400, stop=finished)
            must(r, f"svco train at scale ({family}, reference {mode})")
            step_times = [t for t, l in r.lines if re.match(rf"step \d+/{STEPS} ", l)]
            per_step = steady(step_times)
            work = parse_work(r.text)
            c = model_shape(folder)
            flops = svco_step_flops(c, work, mode == "live")
            rows = jsonl(metrics)
            peak = max((x.get("max_memory_allocated_gib", 0) for x in rows), default=0) * GIB if not CPU_RUN else r.maxrss
            SCALE_RESULTS[family] = {"seconds_per_step": per_step, "peak_bytes": peak, "flops": flops, "mode": mode,
                                     "work": work["line"], "losses": [x.get("loss") for x in rows]}
            s.row(f"{family}: work per record (per model)", work["line"].split(": ", 1)[1])
            s.row(f"{family}: svco steady step ({STEPS} steps, first {WARMUP} not timed), records/s",
                  f"{per_step:.3f} s, {1 / per_step:.2f} records/s", ok=all(math.isfinite(x.get("loss", float('nan'))) for x in rows))
            s.row(f"{family}: svco peak memory ({'torch.cuda.max_memory_allocated' if not CPU_RUN else 'peak RSS, CPU'})",
                  f"{peak / GIB:.2f} GiB")
            s.row(f"{family}: svco executed matmul FLOPs per step, MFU vs 989 TFLOP/s",
                  f"{flops / 1e12:.2f} TFLOP, " + (f"{flops / per_step / PEAK_BF16_FLOPS * 100:.1f}% MFU" if not CPU_RUN
                                                   else f"{flops / per_step / 1e9:.1f} GFLOP/s (CPU; MFU not meaningful)"))
        except Exception as e:  # the other family still runs
            s.row(f"{family}: svco train at scale", (str(e) if isinstance(e, Failure) else f"{type(e).__name__}: {e}")[:300], ok=False)


def section_peer(s, families):
    for family in families:
        spec = SCALE[family]
        try:
            data = scale_data(family)
            folder = scale_model(family)
            # The reference as svco's run had it (it falls back to precomputed log-probs when out of memory).
            mode = SCALE_RESULTS.get(family, {}).get("mode") or reference_mode(spec["config"])
            cmd = [PYTHON, os.path.join(ROOT, "scripts/gpu-check.d/peer_step.py"), "--model", folder, "--data", data, "--image-root", SCALE_IMAGES,
                   "--device", DEVICE, "--steps", str(STEPS), "--bf16", "--gradient-checkpointing", "--reference", mode] \
                + (["--threads", "2"] if CPU_RUN else [])
            r = run(cmd, 400, env=peer_env())
            if r.rc != 0 and mode == "live" and "out of memory" in r.text.lower():
                # transformers holds a second vision tower and logits at every position: if its live
                # reference does not fit, measure it with precomputed reference log-probs (less work than svco's run).
                s.note(f"{family}: the peer ran out of memory with a live reference; rerun with precomputed reference log-probs")
                mode = "precomputed"
                cmd[cmd.index("--reference") + 1] = mode
                r = run(cmd, 400, env=peer_env())
            must(r, f"transformers peer ({family}, reference {mode})")
            peer = json.loads(next(l for _, l in reversed(r.lines) if l.startswith("{")))
            times = peer["step_seconds"]
            per_step = sum(times[WARMUP:]) / max(1, len(times) - WARMUP)
            peak = peer["peak_memory_bytes"] if not CPU_RUN else peer["peak_rss_bytes"]
            c = model_shape(folder)
            flops = peer_step_flops(c, peer, mode == "live")
            s.row(f"{family}: peer (transformers {peer['transformers']}, torch {peer['torch']}, reference {mode}) forwards per model",
                  f"{' + '.join(f'{a}x{b}' for a, b in peer['forwards'])}, {peer['vision_encodes']} encodes, logits at every position")
            s.row(f"{family}: peer steady step, records/s, peak memory", f"{per_step:.3f} s, {1 / per_step:.2f} records/s, {peak / GIB:.2f} GiB",
                  ok=all(math.isfinite(x) for x in peer["losses"]))
            s.row(f"{family}: peer executed matmul FLOPs per step, " + ("MFU" if not CPU_RUN else "GFLOP/s"),
                  f"{flops / 1e12:.2f} TFLOP, " + (f"{flops / per_step / PEAK_BF16_FLOPS * 100:.1f}% MFU" if not CPU_RUN
                                                   else f"{flops / per_step / 1e9:.1f} GFLOP/s"))
            mine = SCALE_RESULTS.get(family)
            if mine:
                s.row(f"{family}: svco / peer: records/s, peak memory",
                      f"{per_step / mine['seconds_per_step']:.2f}x, " + (f"{mine['peak_bytes'] / peak:.2f}x" if peak else "n/a"))
            else:
                s.note(f"{family}: no svco scale result in this run to compare with (run the scale section too)")
        except Failure as e:
            s.row(f"{family}: transformers peer", str(e)[:300], ok=False)
        except Exception as e:  # unreadable output, a zero peak: the other family still runs
            s.row(f"{family}: transformers peer", f"{type(e).__name__}: {e}"[:300], ok=False)


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


def section_similarity(s):
    work = os.path.join(WORK, "similarity")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "img"))
    pairs, batch = (8, 4) if CPU_RUN else (int(os.environ.get("GPU_CHECK_SIM_PAIRS", "512")), int(os.environ.get("GPU_CHECK_SIM_BATCH", "64")))
    if CPU_RUN:
        models = {m: os.path.join(ROOT, "Tests/ModelsTests/Fixtures/vision-similarity", m) for m in ("siglip-tiny", "dinov2-tiny")}
    else:
        models = {}
        for m in ("siglip-so400m-patch14-384", "dinov2-large"):
            models[m] = os.path.join(work, m)
            must(svco(["init", "--config", os.path.join(ROOT, "configs/image-encoders", m, "config.json"), "--out", models[m]], 120), f"svco init {m}")
    # 256 distinct 480x320 noise PNGs and PAIRS pairs over them (a batch of up to 128 pairs holds distinct images).
    import zlib
    files = []
    for i in range(32 if CPU_RUN else 256):
        raw = b"".join(b"\x00" + os.urandom(480 * 3) for _ in range(320))
        chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
        path = os.path.join(work, "img", f"{i}.png")
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 480, 320, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
        files.append(path)
    n = len(files)
    json.dump([{"images": [files[(2 * i) % n], files[(2 * i + 1) % n]]} for i in range(pairs)], open(os.path.join(work, "pairs.json"), "w"))
    siglip, dinov2 = list(models.values())
    for dtype in ("float32", "bfloat16"):
        r = must(svco(["data", "similarity", "--data", os.path.join(work, "pairs.json"), "--siglip", siglip, "--dinov2", dinov2,
                       "--out", os.path.join(work, f"scored-{dtype}.json"), "--batch-size", str(batch), "--device", DEVICE,
                       "--dtype", dtype] + THREADS, 240), f"svco data similarity ({dtype})")
        rate = [l for _, l in r.lines if "images/s" in l or "pairs/s" in l]
        s.row(f"similarity {dtype}, {pairs} pairs, batch {batch}" + (" (tiny fixture models)" if CPU_RUN else " (so400m-384 + DINOv2-large)"),
              rate[-1].strip() if rate else f"{2 * pairs / r.seconds:.1f} images/s over the whole command ({r.seconds:.0f} s)")


# (name, function, time box in seconds); the run as a whole stops at GPU_CHECK_BUDGET, and a section
# that would start with under 20 s left (under its box, when that is shorter) is recorded as skipped.
# LLaVA-1.5 (the paper's main model) is measured and compared first, so that a first run that runs out of
# budget still has that comparison; Interleave follows. `GPU_CHECK_ONLY=scale` names both scale-* sections.
SECTIONS = [("env", section_env, 30), ("selftest", section_selftest, 120), ("parity", section_parity, 150),
            ("memory", section_memory, 10),
            ("scale-llava-1.5", lambda s: section_scale(s, ["llava-1.5"]), 240),
            ("peer-llava-1.5", lambda s: section_peer(s, ["llava-1.5"]), 180),
            ("generate", section_generate, 120),
            ("scale-interleave", lambda s: section_scale(s, ["interleave"]), 240),
            ("peer-interleave", lambda s: section_peer(s, ["interleave"]), 180),
            ("similarity", section_similarity, 90)]


def selected(name):
    """Whether GPU_CHECK_ONLY (empty: every section) names this section or its kind (scale, peer)."""
    return not ONLY or name in ONLY or name.split("-", 1)[0] in ONLY


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
    print(f"svco gpu-check on {DEVICE}: {SVCO}; scratch {WORK}; budget {BUDGET:.0f} s", flush=True)
    for name, fn, limit in SECTIONS:
        run_section(name, fn, limit)
    RESULTS["seconds"] = round(time.monotonic() - STARTED, 1)
    write_json()
    print_table()
    return 0 if all(s["status"] == "ok" for s in RESULTS["sections"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
