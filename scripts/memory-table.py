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


def vision_count(v):
    h, i = v["hidden"], v["inter"]
    patches = (v["image"] // v["patch"]) ** 2
    if v["kind"] == "clip":  # conv without bias, class token, positions incl. class, pre-layernorm
        embed = 3 * v["patch"] ** 2 * h + h + (patches + 1) * h + 2 * h
    else:  # SigLIP: conv with bias, no class token
        embed = 3 * v["patch"] ** 2 * h + h + patches * h
    layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h
    return embed + v["layers"] * layer + 2 * h  # + post_layernorm


def projector_count(vision_hidden, text_hidden):
    return vision_hidden * text_hidden + text_hidden + text_hidden * text_hidden + text_hidden


def text_count(t):
    h, i, d = t["hidden"], t["inter"], t["hidden"] // t["heads"]
    kv = t["kv_heads"] * d
    attention = h * h + 2 * h * kv + h * h + ((h + 2 * kv) if t["qkv_bias"] else 0)
    layer = attention + 3 * h * i + 2 * h
    return 2 * t["vocab"] * h + t["layers"] * layer + h  # untied embeddings and lm_head, final norm


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
        trainable = p + t  # --fix-vit: the vision tower is frozen
        frozen = v + p + t  # the tower (shared with the reference) + the reference's projector and LM
        print(f"{name}: vision {v:,} projector {p:,} language {t:,} total {v + p + t:,}; trainable {trainable:,}", file=sys.stderr)
        models.append((name, trainable, frozen))
    # Bytes per trainable parameter on one GPU of n: fp32 weights 4, fp32 gradients 4, and AdamW's
    # exp_avg + exp_avg_sq (8) plus, when sharded, the fp32 master copy of the shard (4).
    # (stage, bytes per trainable parameter, factor on frozen bytes)
    def stages(n):
        if n == 1:
            return [("0 (one process; sharding needs ≥ 2 ranks)", 16, 1)]
        return [
            ("0", 16, 1),
            ("1", 4 + 4 + 12 / n, 1),
            ("2 as built (gradients reduced once per step)", 4 + 4 + 12 / n, 1),
            ("2 reducing every micro-batch (DeepSpeed's way)", 4 + 16 / n, 1),
            ("3 (designed, not built)", 20 / n, 1 / n),
        ]
    for n, capacity in [(8, 80), (1, 141)]:
        print(f"\n{n}×{capacity} GB: GB per GPU for weights, gradients and optimizer state (no activations)\n")
        header = " | ".join(f"{name}: frozen fp32 / bf16" for name, _, _ in models)
        print(f"| ZeRO stage | bytes / trainable param | {header} |")
        print("|---|---|" + "---|" * len(models))
        for stage, bt, ff in stages(n):
            cells = []
            for _, trainable, frozen in models:
                cells.append(" / ".join(f"{(bt * trainable + b * ff * frozen) / gb:.1f}" for b in (4, 2)))
            print(f"| {stage} | {bt:g} | " + " | ".join(cells) + " |")


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
