"""Section memory: the arithmetic of a 7B policy, its AdamW state and its frozen reference against
the GPU's memory."""
import json
import os

from checks.harness import Failure, GIB, RESULTS, ROOT

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


RESERVE = 1.5 * GIB      # CUDA context, cuBLAS workspaces, allocator slack
ACTIVATIONS = 6 * GIB    # what a step of 6 rows (~640 tokens, checkpointed) needs on top of the states


def published_config(name):
    return json.load(open(os.path.join(ROOT, "configs/llava-hf", name, "config.json")))


def with_decoder_layers(config, layers):
    c = json.loads(json.dumps(config))
    c["text_config"]["num_hidden_layers"] = layers
    return c


def memory_plan(config):
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


def margins(config, capacity):
    """Bytes left for activations under each reference option."""
    _, _, states, options = memory_plan(config)
    return {option: capacity - RESERVE - sum(states.values()) - extra for option, extra in options.items()}


def scale_layers(name):
    """Decoder layers the scale sections train: all of the published model's when its states fit this
    GPU with precomputed reference log-probs and ACTIVATIONS to spare, else the most that do (an 80 GB
    card: the same widths, vocabulary and towers, fewer layers; svco and the peer train the same folder)."""
    config = published_config(name)
    full = defaults(config)["t"]["num_hidden_layers"]
    capacity = gpu_capacity_bytes()
    fit = [l for l in range(full, 0, -1)
           if margins(with_decoder_layers(config, l), capacity)["precomputed reference log-probs"] >= ACTIVATIONS]
    if not fit:
        raise Failure(f"{name}: not even one decoder layer's states fit {capacity / GIB:.1f} GiB")
    return fit[0], full


def section_memory(s):
    capacity = gpu_capacity_bytes()
    s.note(f"capacity {capacity / GIB:.1f} GiB ({'measured' if RESULTS.get('environment', {}).get('memory_gib') else 'an H200, assumed'}), "
           f"{RESERVE / GIB:.1f} GiB kept for the CUDA context and workspaces; GB = 1e9 B")
    plans = {}
    for name in PUBLISHED_TOTALS:
        config = published_config(name)
        n, trained, states, options = memory_plan(config)
        total = sum(n.values())
        s.row(f"{name}: parameters (vision + projector + language) = published count",
              f"{n['vision']:,} + {n['projector']:,} + {n['language']:,} = {total:,}", ok=total == PUBLISHED_TOTALS[name])
        base = sum(states.values())
        s.row(f"{name}: trained {trained / 1e9:.2f} B x 16 B (fp32 weights 4 + grads 4 + AdamW 8) + tower {n['vision'] / 1e9:.2f} B x 4",
              f"{base / 1e9:.1f} GB = {base / GIB:.1f} GiB")
        s.row(f"{name}: bf16 autocast weight cache (2 B x trained, forward only; freed before the gradients exist)",
              f"{2 * trained / 1e9:.1f} GB (not on top of the gradients' peak)")
        fits = margins(config, capacity)
        for option, margin in fits.items():
            s.row(f"{name}: + {option}", f"{(base + options[option]) / GIB:.1f} GiB, " + (
                f"fits with {margin / GIB:.1f} GiB for activations" if margin > 0 else f"does not fit: {-margin / GIB:.1f} GiB over"))
        plans[name] = fits
        # --offload-optimizer-device cpu: AdamW's moments (8 B x trained) live in host memory.
        offloaded = {option: margin + 8 * trained for option, margin in fits.items()}
        s.row(f"{name}: --offload-optimizer-device cpu (moments, {8 * trained / 1e9:.1f} GB, in host memory): bf16-held / precomputed reference",
              " / ".join(f"{(capacity - RESERVE - offloaded[o]) / GIB:.1f} GiB" for o in list(options)[1:])
              + f" ({offloaded[list(options)[1]] / GIB:.1f} / {offloaded[list(options)[2]] / GIB:.1f} GiB left for activations)")
        layers, full = scale_layers(name)
        s.row(f"{name}: the scale sections train", f"all {full} decoder layers" if layers == full else
              f"{layers} of its {full} decoder layers (same widths, vocabulary and towers): the whole model's states do not "
              f"leave {ACTIVATIONS / GIB:.0f} GiB for activations on this GPU")
    RESULTS["memory_plan"] = {k: {o: round(m / GIB, 2) for o, m in v.items()} for k, v in plans.items()}


def reference_mode(name):
    """Live fp32 reference when it leaves ACTIVATIONS for the step, else precomputed log-probs (decided
    on the float32 reference, which the transformers peer holds, so both run the same mode), for the
    model the scale sections train (scale_layers)."""
    layers, _ = scale_layers(name)
    config = with_decoder_layers(published_config(name), layers)
    return "live" if margins(config, gpu_capacity_bytes())["frozen reference fp32"] >= ACTIVATIONS else "precomputed"
