#!/usr/bin/env python3
# Dev-time helper: does a folder written by svco load in HF transformers and match a fixture model?
#
# Pinned environment: python 3.11, torch==2.13.0+cpu, transformers==4.57.1, safetensors==0.6.2
# (the /work/venv-models venv described in make_fixtures.py).
#
# Usage:  check_svco_checkpoint.py FOLDER REFERENCE_FOLDER
#   FOLDER            a checkpoint folder saved by svco (config.json + model.safetensors[.index.json])
#   REFERENCE_FOLDER  one of the fixture folders (llava15-tiny/, interleave-tiny/) holding
#                     reference.safetensors
# Prints: the key layout svco wrote, loading problems (missing / unexpected keys), the largest
# per-tensor weight differences, and the max |logit| and |logp| differences on the reference batch.
# Exit status 0 when loading was clean, 1 otherwise (the numbers are for a human to judge: a
# trained checkpoint is expected to differ).

import json
import os
import sys

import safetensors
import torch
from transformers import LlavaForConditionalGeneration


def checkpoint_keys(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for name in files:
        with safetensors.safe_open(os.path.join(folder, name), "pt") as f:
            for k in f.keys():
                tensors[k] = f.get_tensor(k)
    return tensors


def layout(keys):
    published = any(k.startswith("language_model.model.") for k in keys)
    new = any(k.startswith("model.language_model.") for k in keys)
    return {(True, False): "published", (False, True): "new"}.get((published, new), "mixed/unknown")


def to_published(key):
    """Maps a 4.52+ in-memory key to the published llava-hf name (published keys pass through)."""
    for new, old in (("model.language_model.", "language_model.model."), ("lm_head.", "language_model.lm_head."),
                     ("model.vision_tower.", "vision_tower."),
                     ("model.multi_modal_projector.", "multi_modal_projector.")):
        if key.startswith(new):
            return old + key[len(new):]
    return key


def sequence_logps(logits, labels):
    lp = torch.log_softmax(logits[:, :-1, :].double(), dim=-1)
    tgt = labels[:, 1:]
    picked = torch.gather(lp, 2, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * (tgt != -100)).sum(-1)


def load(folder):
    model, info = LlavaForConditionalGeneration.from_pretrained(
        folder, dtype=torch.float32, attn_implementation="sdpa", output_loading_info=True
    )
    model.eval()
    return model, {k: v for k, v in info.items() if v}


def main(argv):
    if len(argv) != 3:
        print("usage: check_svco_checkpoint.py FOLDER REFERENCE_FOLDER", file=sys.stderr)
        return 2
    folder, ref_folder = argv[1], argv[2]

    svco = checkpoint_keys(folder)
    fixture = checkpoint_keys(ref_folder)
    print(f"svco folder layout: {layout(svco.keys())} ({len(svco)} tensors)")
    print(f"fixture layout:     {layout(fixture.keys())} ({len(fixture)} tensors)")
    dtypes = sorted({str(v.dtype) for v in svco.values()})
    print(f"svco tensor dtypes: {dtypes}")

    # Compare weights by published name whatever layout either folder uses.
    svco = {to_published(k): v for k, v in svco.items()}
    fixture = {to_published(k): v for k, v in fixture.items()}
    common = sorted(set(svco) & set(fixture))
    if set(svco) != set(fixture):
        print(f"key sets differ: only in svco {sorted(set(svco) - set(fixture))[:10]}, "
              f"only in fixture {sorted(set(fixture) - set(svco))[:10]}")
    diffs = []
    for k in common:
        a, b = svco[k].float(), fixture[k].float()
        if a.shape != b.shape:
            print(f"shape mismatch {k}: svco {list(a.shape)} fixture {list(b.shape)}")
            continue
        diffs.append((float((a - b).abs().max()), k))
    diffs.sort(reverse=True)
    print("largest weight differences:")
    for d, k in diffs[:8]:
        print(f"  {d:.3e}  {k}")

    model, problems = load(folder)
    if problems:
        print(f"LOADING PROBLEMS: {problems}")
    ref_model, _ = load(ref_folder)
    with safetensors.safe_open(os.path.join(ref_folder, "reference.safetensors"), "pt") as f:
        ref = {k: f.get_tensor(k) for k in f.keys()}
    batch = dict(input_ids=ref["input_ids"], pixel_values=ref["pixel_values"], attention_mask=ref["attention_mask"])
    with torch.no_grad():
        la = model(**batch).logits
        lb = ref_model(**batch).logits
    real = ref["attention_mask"].bool()
    print(f"max |logit diff| vs fixture model (real tokens): {float((la - lb)[real].abs().max()):.3e}")
    print(f"max |logit diff| vs stored reference logits:     {float((la - ref['logits'])[real].abs().max()):.3e}")
    lp = sequence_logps(la, ref["labels"])
    print(f"logps svco-folder {[round(float(x), 6) for x in lp]}")
    print(f"logps reference   {[round(float(x), 6) for x in ref['logps']]}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
