#!/usr/bin/env python3
"""Parameter counts of llava-1.5-7b-hf and llava-interleave-qwen-7b-hf from their architectures, and
the README's memory table (bytes per parameter, GB per GPU) for svco's ZeRO stages.

The counts are sums over the modules each config builds (the config values are the published
config.json's; defaults of transformers' config classes where the file leaves them out). With
`--check-transformers` (needs torch + transformers) the same configs are built on the meta device and
counted by transformers itself.
"""
import sys

LLAVA15 = dict(  # llava-hf/llava-1.5-7b-hf: CLIP ViT-L/14-336 + Vicuna-7B v1.5 (Llama-2-7B shape)
    vision=dict(kind="clip", hidden=1024, layers=24, inter=4096, image=336, patch=14),
    text=dict(hidden=4096, layers=32, inter=11008, vocab=32064, heads=32, kv_heads=32, qkv_bias=False),
)
INTERLEAVE = dict(  # llava-hf/llava-interleave-qwen-7b-hf: SigLIP-so400m (26 layers, no head) + Qwen1.5-7B shape
    vision=dict(kind="siglip", hidden=1152, layers=26, inter=4304, image=384, patch=14),
    text=dict(hidden=4096, layers=32, inter=11008, vocab=152000, heads=32, kv_heads=32, qkv_bias=True),
)


def vision_parts(v):
    """(blocks, rest): the encoder layers, and embeddings + layernorms."""
    h, i = v["hidden"], v["inter"]
    patches = (v["image"] // v["patch"]) ** 2
    if v["kind"] == "clip":  # conv without bias, class token, positions incl. class, pre-layernorm
        embed = 3 * v["patch"] ** 2 * h + h + (patches + 1) * h + 2 * h
    else:  # SigLIP: conv with bias, no class token
        embed = 3 * v["patch"] ** 2 * h + h + patches * h
    layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h
    return v["layers"] * layer, embed + 2 * h  # + post_layernorm


def vision_count(v):
    return sum(vision_parts(v))


def projector_count(vision_hidden, text_hidden):
    return vision_hidden * text_hidden + text_hidden + text_hidden * text_hidden + text_hidden


def text_parts(t):
    """(blocks, rest): the decoder layers, and untied embeddings + lm_head + final norm."""
    h, i, d = t["hidden"], t["inter"], t["hidden"] // t["heads"]
    kv = t["kv_heads"] * d
    attention = h * h + 2 * h * kv + h * h + ((h + 2 * kv) if t["qkv_bias"] else 0)
    layer = attention + 3 * h * i + 2 * h
    return t["layers"] * layer, 2 * t["vocab"] * h + h


def text_count(t):
    return sum(text_parts(t))


def counts(m):
    v = vision_count(m["vision"])
    p = projector_count(m["vision"]["hidden"], m["text"]["hidden"])
    t = text_count(m["text"])
    return v, p, t


def table():
    gb = 1e9
    models = []
    for name, m in [("LLaVA-1.5-7B", LLAVA15), ("LLaVA-Interleave-7B", INTERLEAVE)]:
        v, p, t = counts(m)
        (vb, vr), (tb, tr) = vision_parts(m["vision"]), text_parts(m["text"])
        print(f"{name}: vision {v:,} projector {p:,} language {t:,} total {v + p + t:,}; trainable {p + t:,}", file=sys.stderr)
        # --fix-vit: the policy trains projector + language model; frozen are the tower (shared with the
        # reference) and the reference's projector and language model. Split into blocks (decoder and
        # encoder layers, which ZeRO-3 shards) and the rest (embeddings, heads, norms, projectors).
        # Under --bf16 the reference holds its linear layers in bfloat16; its RMSNorm weights and input
        # embedding (and the shared tower) stay float32.
        h, layers = m["text"]["hidden"], m["text"]["layers"]
        not_linear = 2 * layers * h + m["text"]["vocab"] * h + h
        models.append(dict(name=name, trained_blocks=tb, trained_rest=p + tr, tower=vb + vr, tower_blocks=vb,
                           reference=tb + p + tr, reference_blocks=tb, reference_not_linear=not_linear,
                           reference_blocks_not_linear=2 * layers * h))

    # Per GPU of n, bytes per trained parameter: fp32 weights 4, fp32 gradients 4, AdamW's exp_avg +
    # exp_avg_sq 8. ZeRO-1 adds the fp32 master copy of the shard (4) and shards the moments: 4 + 4 +
    # 12/n. ZeRO-2 reduce-scatters each gradient bucket as the backward pass fills it, so a rank keeps
    # only its chunk of the gradient (4/n; the buckets in the making are a few hundred MB, not counted):
    # 4 + 16/n. Under ZeRO-3 a block's parameter is only its shard (master 4 + gradient chunk 4 +
    # moments 8, over n); the parameters outside blocks stay whole, but their gradients are reduce-
    # scattered one parameter at a time as the backward pass produces them (as ZeRO-2); frozen blocks are sharded too (4/n; the reference's linear layers 2/n under
    # --bf16, their shards keep the held dtype), the frozen rest whole.
    # --offload-optimizer-device cpu moves AdamW's two moments (8 of those bytes, 8/n when sharded) to
    # host memory; they pass through the device in 2^25-value slices at the step (256 MB, not counted).
    def stages(n):
        if n == 1:
            return [("0 (one process; sharding needs ≥ 2 ranks)", 16, 16, False),
                    ("0 + `--offload-optimizer-device cpu`", 8, 8, False)]
        z1, z2 = 8 + 12 / n, 4 + 16 / n
        return [
            ("0", 16, 16, False),
            ("1", z1, z1, False),
            ("2 (gradients reduce-scattered during the backward pass)", z2, z2, False),
            ("2 + `--offload-optimizer-device cpu`", z2 - 8 / n, z2 - 8 / n, False),
            ("3 (blocks sharded; embeddings, heads, projector as ZeRO-2)", 16 / n, z2, True),
            ("3 + `--offload-optimizer-device cpu`", 8 / n, z2 - 8 / n, True),
        ]

    def frozen_bytes(m, n, sharded, bf16, precomputed=False):
        if precomputed:  # --precompute-ref-log-probs: no reference model, only the (shared) frozen tower
            return 4 / n * m["tower_blocks"] + 4 * (m["tower"] - m["tower_blocks"]) if sharded else 4 * m["tower"]
        linear = m["reference"] - m["reference_not_linear"]
        if sharded:  # ZeRO-3: frozen blocks (tower and reference) sharded, the rest whole
            blocks = m["tower_blocks"] + m["reference_blocks"]
            linear_in_blocks = m["reference_blocks"] - m["reference_blocks_not_linear"]
            held = 4 / n * blocks + 4 * (m["tower"] + m["reference"] - blocks)
            return held - (2 / n * linear_in_blocks + 2 * (linear - linear_in_blocks) if bf16 else 0)
        return 4 * (m["tower"] + m["reference"]) - (2 * linear if bf16 else 0)

    def label(block, rest):
        return f"{block:g}" if block == rest else f"{block:g} blocks, {rest:g} rest"

    for n, title in [(8, "8×80 GB"), (1, "1 GPU (an H200's 141 GB; an H100's or A100's 80 GB)")]:
        print(f"\n{title}: GB per GPU for weights, gradients and optimizer state (no activations)\n")
        header = " | ".join(f"{m['name']}: reference fp32 / --bf16 / precomputed" for m in models)
        print(f"| ZeRO stage | bytes / trained param | {header} |")
        print("|---|---|" + "---|" * len(models))
        for stage, block, rest, sharded in stages(n):
            cells = []
            for m in models:
                trained = block * m["trained_blocks"] + rest * m["trained_rest"]
                cells.append(" / ".join(f"{(trained + frozen_bytes(m, n, sharded, bf16, pre)) / gb:.1f}"
                                        for bf16, pre in ((False, False), (True, False), (False, True))))
            print(f"| {stage} | {label(block, rest)} | " + " | ".join(cells) + " |")


def check_transformers():
    import torch
    from transformers import LlavaConfig, LlavaForConditionalGeneration

    configs = {
        "LLaVA-1.5-7B": LlavaConfig(
            vision_config=dict(model_type="clip_vision_model", hidden_size=1024, image_size=336, intermediate_size=4096,
                               num_attention_heads=16, num_hidden_layers=24, patch_size=14, projection_dim=768),
            text_config=dict(model_type="llama", vocab_size=32064), vision_feature_layer=-2),
        "LLaVA-Interleave-7B": LlavaConfig(
            vision_config=dict(model_type="siglip_vision_model", hidden_size=1152, image_size=384, intermediate_size=4304,
                               num_attention_heads=16, num_hidden_layers=26, patch_size=14, vision_use_head=False),
            text_config=dict(model_type="qwen2", intermediate_size=11008, vocab_size=152000), vision_feature_layer=-1),
    }
    for (name, config), m in zip(configs.items(), [LLAVA15, INTERLEAVE]):
        with torch.device("meta"):
            model = LlavaForConditionalGeneration(config)
        theirs = sum(p.numel() for p in model.parameters())
        ours = sum(counts(m))
        print(f"{name}: transformers {theirs:,}, formula {ours:,}: {'equal' if theirs == ours else 'DIFFERENT'}", file=sys.stderr)
        assert theirs == ours


if __name__ == "__main__":
    if "--check-transformers" in sys.argv:
        check_transformers()
    table()
