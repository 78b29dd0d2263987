"""Sections scale-* and peer-*: svco and the transformers peer at the 7B shapes, with analytic FLOP
counts for MFU."""
import json
import math
import os
import re
import shutil
import threading
import time

from checks.harness import CPU_RUN, DEVICE, Failure, GIB, PEAK_BF16_FLOPS, PYTHON, ROOT, THREADS, WORK, jsonl, must, peer_env, run, svco
from checks.memory import defaults, published_config, reference_mode, scale_layers, with_decoder_layers
from checks.parity import TRAIN_DATA

# ---------------------------------------------------------------- 3-5. the 7B shapes

SCALE = {
    "llava-1.5": {"config": "llava-1.5-7b-hf", "tokenizer": "demo/tiny-llava", "image_size": 336},
    "interleave": {"config": "llava-interleave-qwen-7b-hf", "tokenizer": "Tests/TrainingTests/Fixtures/interleave/model", "image_size": 384},
}
STEPS, WARMUP = (3, 1) if CPU_RUN else (8, 3)
SCALE_IMAGES = os.path.join(ROOT, "demo/mvc")


def scale_folder(family, whole=False):
    """Where scale_model keeps the family's folder, and how many decoder layers it has."""
    layers, full = scale_layers(SCALE[family]["config"])
    layers = full if whole else layers
    return os.path.join(WORK, "models", family + ("-tiny" if CPU_RUN else "-7b" if layers == full else f"-7b-{layers}-layers")), layers


# The thread making the scale folders in the background, see make_models_in_background.
_background = None


def make_models_in_background(families):
    """Starts `svco init` of the families' scale folders, one after the other, in a background thread.
    Each writes 14-16 GB with the CPU and the disk for a minute or two; started while a section that
    only checks correctness runs (parity), the timed sections after it find them made (or wait)."""
    global _background

    def make_all():
        for family in families:
            try:
                make_model(family, False, outlives_section=True)
            except Exception:  # left unmade: the section that wants it tries again and reports the failure
                pass

    _background = threading.Thread(target=make_all, name="svco-init")
    _background.start()


def folder_complete(folder):
    """Whether svco init finished the folder (it writes a staging folder and renames it): one file, or a
    sharded index (a 7B model)."""
    return os.path.exists(os.path.join(folder, "model.safetensors")) or os.path.exists(os.path.join(folder, "model.safetensors.index.json"))


def scale_model(family, whole=False):
    """A random-weight folder of the family's 7B shapes (tiny layers in the dry run, the same image
    shapes; fewer decoder layers where the GPU cannot train them all, see scale_layers, unless
    `whole`), made once by `svco init` and reused. Every section that times something calls this
    first, so it waits for the background inits to end (all of them, not only its folder's): no init
    competes with a timing for the CPU or the disk."""
    if _background is not None:
        _background.join()
    return make_model(family, whole)


def make_model(family, whole, outlives_section=False):
    """The folder of scale_model, made unless it exists. The configs keep every shape (vocabulary
    included) but take the small committed tokenizer's special ids, so that no 7B tokenizer is needed."""
    spec = SCALE[family]
    folder, layers = scale_folder(family, whole)
    if folder_complete(folder):
        return folder
    config = with_decoder_layers(published_config(spec["config"]), layers)
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
               os.path.join(ROOT, spec["tokenizer"])], 300, outlives_section=outlives_section), f"svco init ({family})")
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


def train_steps(s, family, folder, data, out, mode, extra=()):
    """STEPS steps of `svco train --bf16 --gradient-checkpointing` at batch 1 on `folder`, stopped once
    the last step's metrics are written (saving a 7B model is not part of the check); a live
    reference that runs out of memory is a failed row and the run is redone with precomputed
    log-probs. Returns the run, the reference mode it ran with, and its metrics.jsonl."""
    shutil.rmtree(out, ignore_errors=True)
    metrics = os.path.join(out, "metrics.jsonl")

    def finished(lines):
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
            "--device", DEVICE] + (["--precompute-ref-log-probs"] if mode == "precomputed" else []) + list(extra) + THREADS
    r = svco(args, 400, stop=finished)
    if r.rc != 0 and mode == "live" and "out of memory" in r.text.lower():
        s.row(f"{family}: svco with a live reference", "out of memory (the arithmetic said it fits): "
              + next((l for _, l in r.lines if "out of memory" in l.lower()), "")[:200], ok=False)
        mode = "precomputed"
        shutil.rmtree(out, ignore_errors=True)
        r = svco(args + ["--precompute-ref-log-probs"], 400, stop=finished)
    must(r, f"svco train at scale ({family}, reference {mode}{', ' + ' '.join(extra) if extra else ''})")
    return r, mode, metrics


SCALE_RESULTS = {}


def section_scale(s, families):
    for family in families:
        spec = SCALE[family]
        try:
            data = scale_data(family)
            asked = time.monotonic()
            folder = scale_model(family)
            mode = reference_mode(spec["config"])
            layers, full = scale_layers(spec["config"])
            shape = "tiny layers, real image shapes" if CPU_RUN else "7B shapes, random bf16 weights" + (
                "" if layers == full else f"; {layers} of {full} decoder layers (all do not fit this GPU)")
            s.row(f"{family}: model folder ({shape})",
                  f"{os.path.basename(folder)}, ready after {time.monotonic() - asked:.0f} s (the background inits included); reference {mode}")
            out = os.path.join(WORK, "scale", family)
            r, mode, metrics = train_steps(s, family, folder, data, out, mode)
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
