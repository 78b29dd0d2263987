#!/usr/bin/env python3
# Reference fixtures for the Swift LLaVA port (ModelsTests).
#
# Pinned environment (dev time only; tests never run Python):
#   python 3.11, torch==2.13.0+cpu, transformers==4.57.1, safetensors==0.6.2, numpy==2.3.4
#   python3 -m venv /work/venv-models && /work/venv-models/bin/pip install \
#       torch==2.13.0+cpu transformers==4.57.1 safetensors==0.6.2 numpy==2.3.4 packaging
# Run from this folder:  /work/venv-models/bin/python make_fixtures.py
#
# Writes, for each tiny random model (llava15-tiny: CLIP + Llama, interleave-tiny: SigLIP + Qwen2):
#   <name>/config.json, <name>/model.safetensors   (fp32, published llava-hf key layout)
#   <name>/reference.safetensors, <name>/reference.json
# and prints the dev-time checks (written layout, layout round trip, eager vs sdpa).
# Everything is seeded; rerunning with the pinned versions rewrites identical files.

import copy
import json
import os
import re
import shutil
import sys
import tempfile

import numpy as np
import safetensors
import safetensors.torch
import torch
import transformers
from transformers import (
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    Qwen2Config,
    SiglipVisionConfig,
)

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20251127
N_IMAGE_TOKENS = 16  # (20 / 5)^2 patches; CLIP's CLS is dropped by strategy "default"

# Published layout (llava-hf checkpoints, transformers < 4.52) <-> 4.52+ in-memory layout.
# Order matters: the first matching prefix wins.
PUBLISHED_TO_NEW = [
    ("language_model.model.", "model.language_model."),
    ("language_model.lm_head.", "lm_head."),
    ("vision_tower.", "model.vision_tower."),
    ("multi_modal_projector.", "model.multi_modal_projector."),
]


def to_new(key):
    for old, new in PUBLISHED_TO_NEW:
        if key.startswith(old):
            return new + key[len(old):]
    raise KeyError(f"unmapped published key {key}")


def to_published(key):
    for old, new in PUBLISHED_TO_NEW:
        if key.startswith(new):
            return old + key[len(new):]
    raise KeyError(f"unmapped new-layout key {key}")


def detect_layout(keys):
    published = any(k.startswith("language_model.model.") for k in keys)
    new = any(k.startswith("model.language_model.") for k in keys)
    if published and not new:
        return "published"
    if new and not published:
        return "new"
    return "mixed"


# ---------------------------------------------------------------------------------------------
# Configs


def llava15_config():
    vision = CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
        image_size=20, patch_size=5, num_channels=3, hidden_act="quick_gelu", layer_norm_eps=1e-5,
        projection_dim=32,
    )
    text = LlamaConfig(
        hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=307, rms_norm_eps=1e-6, rope_theta=10000.0,
        tie_word_embeddings=False, max_position_embeddings=256, hidden_act="silu",
        bos_token_id=1, eos_token_id=2, pad_token_id=301,
    )
    return LlavaConfig(
        vision_config=vision.to_dict(), text_config=text.to_dict(), image_token_index=300,
        pad_token_id=301, bos_token_id=1, eos_token_id=2, vision_feature_layer=-2,
        vision_feature_select_strategy="default", projector_hidden_act="gelu",
        image_seq_length=N_IMAGE_TOKENS, tie_word_embeddings=False,
    )


def interleave_config():
    vision = SiglipVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        image_size=20, patch_size=5, num_channels=3, hidden_act="gelu_pytorch_tanh",
        layer_norm_eps=1e-6, vision_use_head=False,
    )
    text = Qwen2Config(
        hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=311, rms_norm_eps=1e-6, rope_theta=1000000.0,
        tie_word_embeddings=True, max_position_embeddings=256, hidden_act="silu",
        eos_token_id=308, pad_token_id=309, use_sliding_window=False,
    )
    return LlavaConfig(
        vision_config=vision.to_dict(), text_config=text.to_dict(), image_token_index=310,
        pad_token_id=309, eos_token_id=308, vision_feature_layer=-1,
        vision_feature_select_strategy="full", projector_hidden_act="gelu",
        image_seq_length=N_IMAGE_TOKENS, tie_word_embeddings=True,
    )


# ---------------------------------------------------------------------------------------------
# Weights: larger than HF's init so that a wrong op shows up in the outputs.


def scale_weights(model, seed):
    g = torch.Generator().manual_seed(seed)
    seen = set()
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(remove_duplicate=False), key=lambda kv: kv[0]):
            if id(p) in seen:  # tied lm_head: same tensor as embed_tokens
                continue
            seen.add(id(p))
            shape = p.shape
            if "norm" in name and name.endswith("weight"):  # RMSNorm / LayerNorm gains, not all ones
                v = 1.0 + 0.2 * torch.randn(shape, generator=g)
            elif name.endswith("bias"):
                v = 0.1 * torch.randn(shape, generator=g)
            elif "embed_tokens" in name or "position_embedding" in name or "class_embedding" in name:
                v = 0.5 * torch.randn(shape, generator=g)
            else:  # linear / conv weights
                v = 0.2 * torch.randn(shape, generator=g)
            p.copy_(v)


# ---------------------------------------------------------------------------------------------
# The batch


def build_batch(family, cfg, g):
    """Three right-padded rows: 1 image, no image, 2 images. Returns compact and expanded tensors."""
    img = cfg.image_token_index
    pad = cfg.text_config.pad_token_id
    lo, hi = 3, img - 2  # ordinary text ids, below every special id

    def rnd(n):
        return torch.randint(lo, hi, (n,), generator=g).tolist()

    rows = []  # (prompt ids, response ids)
    if family == "llava15":
        bos, eos = 1, 2
        rows.append(([bos] + rnd(3) + [img] + rnd(2), rnd(4) + [eos]))
        rows.append(([bos] + rnd(4), rnd(3) + [eos]))
        rows.append(([bos] + rnd(2) + [img] + rnd(1) + [img] + rnd(2), rnd(3) + [eos]))
    else:  # ChatML-like: no BOS/EOS added; response ends with <|im_end|>-like id 308
        im_end = 308
        rows.append((rnd(3) + [img] + rnd(3), rnd(4) + [im_end]))
        rows.append((rnd(5), rnd(3) + [im_end]))
        rows.append((rnd(2) + [img] + rnd(1) + [img] + rnd(3), rnd(2) + [im_end]))

    def assemble(expand):
        ids, labels = [], []
        for prompt, resp in rows:
            r_ids, r_lab = [], []
            for t in prompt:
                n = N_IMAGE_TOKENS if (expand and t == img) else 1
                r_ids += [t] * n
                r_lab += [-100] * n
            r_ids += resp
            r_lab += resp
            ids.append(r_ids)
            labels.append(r_lab)
        T = max(len(r) for r in ids)
        out_ids = torch.full((3, T), pad, dtype=torch.int64)
        out_mask = torch.zeros((3, T), dtype=torch.int64)
        out_lab = torch.full((3, T), -100, dtype=torch.int64)
        for i, (r, l) in enumerate(zip(ids, labels)):
            out_ids[i, : len(r)] = torch.tensor(r)
            out_mask[i, : len(r)] = 1
            out_lab[i, : len(l)] = torch.tensor(l)
        return out_ids, out_mask, out_lab

    compact = assemble(False)
    expanded = assemble(True)
    n_images = sum(p.count(img) for p, _ in rows)
    pixel_values = torch.randn((n_images, 3, 20, 20), generator=g)
    return compact, expanded, pixel_values


def build_generation_batch(family, cfg, g):
    """Two prompts with one image each, different lengths, LEFT-padded, image tokens expanded."""
    img = cfg.image_token_index
    pad = cfg.text_config.pad_token_id
    lo, hi = 3, img - 2

    def rnd(n):
        return torch.randint(lo, hi, (n,), generator=g).tolist()

    if family == "llava15":
        prompts = [[1] + rnd(2) + [img] + rnd(4), [1] + rnd(1) + [img] + rnd(1)]
    else:
        prompts = [rnd(3) + [img] + rnd(4), rnd(1) + [img] + rnd(2)]
    expanded = []
    for p in prompts:
        e = []
        for t in p:
            e += [t] * (N_IMAGE_TOKENS if t == img else 1)
        expanded.append(e)
    T = max(len(e) for e in expanded)
    ids = torch.full((2, T), pad, dtype=torch.int64)
    mask = torch.zeros((2, T), dtype=torch.int64)
    for i, e in enumerate(expanded):
        ids[i, T - len(e):] = torch.tensor(e)
        mask[i, T - len(e):] = 1
    pixel_values = torch.randn((2, 3, 20, 20), generator=g)
    return ids, mask, pixel_values


# ---------------------------------------------------------------------------------------------
# Reference computations


def sequence_logps(logits, labels):
    """Per-row SUM over scored positions t of log_softmax(logits[t-1])[labels[t]], in float64."""
    lp = torch.log_softmax(logits[:, :-1, :].double(), dim=-1)
    tgt = labels[:, 1:]
    mask = tgt != -100
    picked = torch.gather(lp, 2, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)


def load(folder, attn="sdpa", dtype=torch.float32):
    model, info = LlavaForConditionalGeneration.from_pretrained(
        folder, dtype=dtype, attn_implementation=attn, output_loading_info=True
    )
    bad = {k: v for k, v in info.items() if v}
    if bad:
        raise SystemExit(f"loading {folder}: {bad}")
    model.eval()
    # svco follows the behaviour the S-VCO reference (transformers 4.45) and the released LLaVA
    # checkpoints were trained with: SigLIP's post_layernorm is NOT applied to the hidden state LLaVA
    # selects. 4.57.1 applies it to hidden_states[-1] (see README); switch it off here (keeping the
    # weights in the state dict) so every reference below follows the trained behaviour. The
    # 4.57.1 values are recorded as `*_with_post_layernorm`.
    if hasattr(model.model.vision_tower, "vision_model") and model.config.vision_config.model_type == "siglip_vision_model":
        ln = model.model.vision_tower.vision_model.post_layernorm
        ln.real_forward = ln.forward
        ln.forward = lambda x: x
    return model


def write_safetensors(tensors, path):
    safetensors.torch.save_file(
        {k: v.contiguous() for k, v in sorted(tensors.items())}, path, metadata={"format": "pt"}
    )


def summarize(t, n=4):
    flat = t.detach().double().flatten()
    return {
        "shape": list(t.shape),
        "dtype": str(t.dtype).replace("torch.", ""),
        "first": [round(float(x), 6) if t.is_floating_point() else int(x) for x in flat[:n]],
        "sum": round(float(flat.sum()), 6) if t.is_floating_point() else int(flat.sum()),
    }


def make(family, name, cfg, seed):
    out = os.path.join(HERE, name)
    torch.manual_seed(seed)
    cfg._attn_implementation = "sdpa"
    model = LlavaForConditionalGeneration(cfg).to(torch.float32)
    scale_weights(model, seed + 1)
    model.eval()

    report = {"model": name, "transformers": transformers.__version__, "torch": torch.__version__}

    # 1. What does save_pretrained write by itself?
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        files = sorted(os.listdir(tmp))
        with safetensors.safe_open(os.path.join(tmp, "model.safetensors"), "pt") as f:
            written = {k: f.get_tensor(k) for k in f.keys()}
        written_layout = detect_layout(written.keys())
        report["written_layout"] = written_layout
        report["save_pretrained_files"] = files
        print(f"[{name}] save_pretrained wrote {files}, layout: {written_layout}")
        if written_layout == "published":
            published = written
        elif written_layout == "new":
            published = {to_published(k): v for k, v in written.items()}
        else:
            raise SystemExit(f"[{name}] mixed layout written: {sorted(written)[:8]}")
        os.makedirs(out, exist_ok=True)
        shutil.copy(os.path.join(tmp, "config.json"), os.path.join(out, "config.json"))
        if os.path.exists(os.path.join(tmp, "generation_config.json")):
            shutil.copy(os.path.join(tmp, "generation_config.json"), os.path.join(out, "generation_config.json"))
    write_safetensors(published, os.path.join(out, "model.safetensors"))
    report["checkpoint_keys"] = sorted(published.keys())
    report["lm_head_in_checkpoint"] = "language_model.lm_head.weight" in published

    # 2. Load the fixture folder back (strict: no missing/unexpected keys) and compute references.
    model = load(out, "sdpa")
    g = torch.Generator().manual_seed(seed + 2)
    (c_ids, c_mask, c_lab), (ids, mask, lab), pixel_values = build_batch(family, cfg, g)
    gen_ids, gen_mask, gen_pix = build_generation_batch(family, cfg, g)
    T = ids.shape[1]
    position_ids = torch.arange(T).unsqueeze(0).expand(3, T).contiguous()

    ref = {
        "input_ids_compact": c_ids, "attention_mask_compact": c_mask, "labels_compact": c_lab,
        "input_ids": ids, "attention_mask": mask, "labels": lab, "pixel_values": pixel_values,
        "position_ids": position_ids,
    }

    with torch.no_grad():
        feats = torch.stack(model.model.get_image_features(pixel_values=pixel_values))
        vout = model.model.vision_tower(pixel_values, output_hidden_states=True)
        hs = torch.stack(vout.hidden_states)  # [L+1, images, S, C]
    ref["image_features"] = feats
    ref["vision_hidden_states"] = hs

    # Forward + backward with every parameter trainable, in fp32, as HF computes it.
    model.zero_grad(set_to_none=True)
    for p in model.parameters():
        p.requires_grad_(True)
    outputs = model(input_ids=ids, pixel_values=pixel_values, attention_mask=mask)
    logits = outputs.logits
    logps = sequence_logps(logits, lab)
    logps.sum().backward()
    ref["logits"] = logits.detach()
    ref["logps"] = logps.detach()
    # Compact-vs-expanded sanity: the expanded batch must carry the same scored tokens.
    assert int((lab != -100).sum()) == int((c_lab != -100).sum())

    params = dict(model.named_parameters())
    last = cfg.text_config.num_hidden_layers - 1
    grad_keys = {
        "multi_modal_projector.linear_1.weight": "model.multi_modal_projector.linear_1.weight",
        "multi_modal_projector.linear_2.bias": "model.multi_modal_projector.linear_2.bias",
        "language_model.model.layers.0.self_attn.q_proj.weight": "model.language_model.layers.0.self_attn.q_proj.weight",
        f"language_model.model.layers.{last}.mlp.down_proj.weight": f"model.language_model.layers.{last}.mlp.down_proj.weight",
        "language_model.model.embed_tokens.weight": "model.language_model.embed_tokens.weight",
        "vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight": "model.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight",
        "vision_tower.vision_model.embeddings.patch_embedding.weight": "model.vision_tower.vision_model.embeddings.patch_embedding.weight",
    }
    if family == "interleave":
        grad_keys["language_model.model.layers.0.self_attn.q_proj.bias"] = "model.language_model.layers.0.self_attn.q_proj.bias"
    else:
        grad_keys["language_model.lm_head.weight"] = "lm_head.weight"
    for pub, mem in grad_keys.items():
        gr = params[mem].grad
        assert gr is not None and gr.abs().sum() > 0, f"no gradient for {pub}"
        ref[f"grad.{pub}"] = gr.detach().clone()
    no_grad = sorted(to_published(n) for n, p in model.named_parameters() if p.grad is None)
    zero_grad = sorted(to_published(n) for n, p in model.named_parameters()
                       if p.grad is not None and float(p.grad.abs().sum()) == 0.0)
    report["params_without_gradient"] = no_grad
    report["params_with_all_zero_gradient"] = zero_grad
    model.zero_grad(set_to_none=True)

    # The references above leave SigLIP's post_layernorm out of the selected features (see load());
    # record what transformers 4.57.1 itself computes (post_layernorm applied) as the alternative.
    if family == "interleave":
        vm = model.model.vision_tower.vision_model
        ln = vm.post_layernorm
        ln.forward = ln.real_forward
        with torch.no_grad():
            alt_feats = torch.stack(model.model.get_image_features(pixel_values=pixel_values))
            alt_logits = model(input_ids=ids, pixel_values=pixel_values, attention_mask=mask).logits
            post_hs = model.model.vision_tower(pixel_values, output_hidden_states=True).hidden_states[-1]
        ln.forward = lambda x: x
        ref["image_features_with_post_layernorm"] = alt_feats
        ref["logits_with_post_layernorm"] = alt_logits
        ref["logps_with_post_layernorm"] = sequence_logps(alt_logits, lab)
        with torch.no_grad():
            manual = ln.real_forward(vm.encoder(vm.embeddings(pixel_values)).last_hidden_state)
        post_ln_diff = float((manual - post_hs).abs().max())
        report["siglip_hidden_states_last_is_post_layernormed"] = post_ln_diff < 1e-6
        print(f"[{name}] SigLIP hidden_states[-1] == post_layernorm(last layer): max diff {post_ln_diff:.3g}")
    else:
        with torch.no_grad():
            vm = model.model.vision_tower.vision_model
            emb_ln = vm.pre_layrnorm(vm.embeddings(pixel_values))
        d0 = float((emb_ln - hs[0]).abs().max())
        report["clip_hidden_states_0_is_pre_layrnorm_of_embeddings"] = d0 < 1e-6
        print(f"[{name}] CLIP hidden_states[0] == pre_layrnorm(embeddings): max diff {d0:.3g}")

    # bf16 logits (whole model cast to bfloat16, pixel values passed as f32; CLIP/SigLIP cast them).
    with torch.no_grad():
        mb = load(out, "sdpa", torch.bfloat16)
        lb = mb(input_ids=ids, pixel_values=pixel_values, attention_mask=mask).logits
        ref["logits_bf16"] = lb.float()
        ref["logps_bf16"] = sequence_logps(lb.float(), lab)
        valid = mask.bool()
        report["bf16_vs_fp32_max_abs_logit_diff_on_real_tokens"] = float((lb.float() - logits.detach())[valid].abs().max())
        del mb

    # 3. eager vs sdpa.
    with torch.no_grad():
        me = load(out, "eager")
        le = me(input_ids=ids, pixel_values=pixel_values, attention_mask=mask).logits
        d_all = float((le - logits.detach()).abs().max())
        d_real = float((le - logits.detach())[mask.bool()].abs().max())
        report["eager_vs_sdpa_max_abs_logit_diff"] = d_all
        report["eager_vs_sdpa_max_abs_logit_diff_real_tokens"] = d_real
        print(f"[{name}] eager vs sdpa: max |dlogit| all {d_all:.3g}, real tokens {d_real:.3g}")
        assert d_all < 1e-5, "eager and sdpa disagree"
        del me

    # 4. Greedy generation, left padded.
    eos = cfg.text_config.eos_token_id
    pad = cfg.text_config.pad_token_id
    with torch.no_grad():
        gen = model.generate(
            input_ids=gen_ids, attention_mask=gen_mask, pixel_values=gen_pix,
            max_new_tokens=20, do_sample=False, eos_token_id=eos, pad_token_id=pad,
            num_beams=1, use_cache=True,
        )
    new_tokens = gen[:, gen_ids.shape[1]:]
    ref["generate_input_ids"] = gen_ids
    ref["generate_attention_mask"] = gen_mask
    ref["generate_pixel_values"] = gen_pix
    ref["generated_ids"] = new_tokens.contiguous()
    report["generate"] = {
        "max_new_tokens": 20, "do_sample": False, "eos_token_id": eos, "pad_token_id": pad,
        "new_tokens_per_row": [int(new_tokens.shape[1])] * 2,
        "eos_hit": [bool((r == eos).any()) for r in new_tokens],
        "note": "after a row emits eos, HF fills that row with pad_token_id until all rows stop or 20 tokens",
    }
    # Cross-check: greedy decoding without cache, one full forward per step, with HF's generation
    # position ids (cumsum of the mask - 1, pads set to 1).
    with torch.no_grad():
        cur_ids, cur_mask = gen_ids.clone(), gen_mask.clone()
        done = torch.zeros(2, dtype=torch.bool)
        steps = []
        for _ in range(20):
            pos = cur_mask.cumsum(-1) - 1
            pos.masked_fill_(cur_mask == 0, 1)
            lg = model(input_ids=cur_ids, pixel_values=gen_pix, attention_mask=cur_mask, position_ids=pos).logits
            nxt = lg[:, -1].argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, pad), nxt)
            done |= nxt == eos
            steps.append(nxt)
            cur_ids = torch.cat([cur_ids, nxt[:, None]], 1)
            cur_mask = torch.cat([cur_mask, torch.ones(2, 1, dtype=cur_mask.dtype)], 1)
            if bool(done.all()):
                break
        manual = torch.stack(steps, 1)
    report["generate"]["no_cache_recompute_matches"] = bool(torch.equal(manual, new_tokens))
    print(f"[{name}] generated {new_tokens.tolist()} (no-cache recompute matches: {torch.equal(manual, new_tokens)})")
    # Prompt-position ids HF uses in generate (needed because of the left padding).
    gp = gen_mask.cumsum(-1) - 1
    gp.masked_fill_(gen_mask == 0, 1)
    ref["generate_position_ids"] = gp

    # 5. Layout round trip: the fixture folder and a copy renamed to the new layout give identical logits.
    with tempfile.TemporaryDirectory() as tmp:
        for f in os.listdir(out):
            if f in ("config.json", "generation_config.json"):
                shutil.copy(os.path.join(out, f), tmp)
        write_safetensors({to_new(k): v for k, v in published.items()}, os.path.join(tmp, "model.safetensors"))
        with torch.no_grad():
            m2 = load(tmp, "sdpa")
            l2 = m2(input_ids=ids, pixel_values=pixel_values, attention_mask=mask).logits
        d = float((l2 - logits.detach()).abs().max())
        report["new_layout_copy_max_abs_logit_diff"] = d
        print(f"[{name}] published-layout folder vs new-layout copy: max |dlogit| {d:.3g}")
        assert d == 0.0

    write_safetensors(ref, os.path.join(out, "reference.safetensors"))

    report["N_image_tokens"] = N_IMAGE_TOKENS
    report["attn_implementation_of_reference"] = "sdpa"
    report["position_ids_forward"] = "arange(T) for every row (HF ignores padding when position_ids is None)"
    report["tensors"] = {k: summarize(v) for k, v in sorted(ref.items())}
    report["logps"] = [float(x) for x in ref["logps"]]
    report["config"] = {
        "image_token_index": cfg.image_token_index,
        "pad_token_id": pad, "eos_token_id": eos,
        "vision_feature_layer": cfg.vision_feature_layer,
        "vision_feature_select_strategy": cfg.vision_feature_select_strategy,
        "tie_word_embeddings": cfg.text_config.tie_word_embeddings,
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"[{name}] logps {report['logps']}")


def main():
    assert transformers.__version__ == "4.57.1", transformers.__version__
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # summation order independent of the machine's core count
    make("llava15", "llava15-tiny", llava15_config(), SEED)
    make("interleave", "interleave-tiny", interleave_config(), SEED + 100)
    total = 0
    for name in ("llava15-tiny", "interleave-tiny"):
        for f in sorted(os.listdir(os.path.join(HERE, name))):
            total += os.path.getsize(os.path.join(HERE, name, f))
    print(f"total fixture size: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
