"""The transformers peer of gpu-check's scale section: S-VCO optimiser steps on HF transformers + torch,
one MVC record per step, the way the S-VCO reference trainer (a TRL DPOTrainer subclass) feeds the model.

Per record: the six sequences (SVCO-SPEC section 2) built from the model folder's chat template and
tokenizer; the four image rows (cc, rc, cr, rr, each with its own copy of its image) in one right-padded
forward, the two no-image rows (nc, nr) in another; per-sequence log-prob sums from the full logits; the
S-VCO loss (SVCO-SPEC section 3, betas 0.1); backward; clip_grad_norm_ 1.0; torch.optim.AdamW (lr 1e-6,
betas 0.9/0.95, weight decay 0.02 except biases and norms; fused on CUDA). The vision tower is frozen.
Options: bf16 autocast (float32 master weights, as HF Trainer's --bf16), gradient checkpointing
(HF's gradient_checkpointing_enable, reentrant), attention through sdpa. The reference is either a
frozen deep copy run under no_grad ("live") or its log-probs computed once before the timed steps with
the policy's initial weights ("precomputed", TRL's precompute_ref_log_probs; the only way a 7B policy
with AdamW fits one 141 GB GPU).

Prints one JSON object: per-step seconds (device synchronised), peak memory (CUDA:
torch.cuda.max_memory_allocated; CPU: peak RSS), the forward shapes gpu-check counts FLOPs from,
and the losses. Usage: peer_step.py --model DIR --data FILE [--image-root DIR] [--device cuda] [--steps 6] [--bf16]
[--gradient-checkpointing] [--reference live|precomputed] [--threads N]"""
import argparse
import copy
import json
import os
import resource
import sys
import time

import torch
from PIL import Image
from transformers import AutoImageProcessor, AutoTokenizer, LlavaForConditionalGeneration
import transformers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from reference_step import KINDS, adamw_groups, answer_logps, padded, svco_loss  # noqa: E402


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--image-root", help="folder relative image paths resolve against (default: the data file's)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--reference", choices=("live", "precomputed"), default="live")
    p.add_argument("--threads", type=int, default=0)
    return p.parse_args()


def template_of(folder):
    path = os.path.join(folder, "chat_template.json")
    if os.path.exists(path):
        return json.load(open(path))["chat_template"]
    path = os.path.join(folder, "chat_template.jinja")
    return open(path).read() if os.path.exists(path) else None


def image_positions(config):
    v = config.vision_config
    patches = (v.image_size // v.patch_size) ** 2
    # "default" drops CLIP's class token; "full" keeps every position (SigLIP has no class token).
    return patches if config.vision_feature_select_strategy == "default" or v.model_type != "clip_vision_model" else patches + 1


class Sequences:
    """The six sequences of a record as (ids, labels) with each image placeholder expanded."""

    def __init__(self, folder, config):
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.template = template_of(folder)
        self.image_token = config.image_token_index
        self.image_positions = image_positions(config)
        self.image_text = self.tokenizer.convert_ids_to_tokens(self.image_token)

    def render(self, record, with_image, response):
        user = ([{"type": "image"}] if with_image else []) + [{"type": "text", "text": record["instruction_prompt"]}]
        messages = [{"role": "system", "content": [{"type": "text", "text": record["system_prompt"]}]}] if record.get("system_prompt") else []
        messages.append({"role": "user", "content": user})
        prompt = self.tokenizer.apply_chat_template(messages, chat_template=self.template, tokenize=False, add_generation_prompt=True)
        return prompt, prompt + response + (self.tokenizer.eos_token or "")

    def build(self, record, kind):
        with_image = kind[0] != "n"
        response = record["chosen_response"] if kind[1] == "c" else record["rejected_response"]
        prompt, full = self.render(record, with_image, response)
        prompt_ids = self.tokenizer(prompt, add_special_tokens=False).input_ids
        ids = self.tokenizer(full, add_special_tokens=False).input_ids
        bos = self.tokenizer.bos_token_id
        if bos is not None and self.tokenizer.bos_token and not full.startswith(self.tokenizer.bos_token):
            ids, prompt_ids = [bos] + ids, [bos] + prompt_ids
        labels = [-100] * len(prompt_ids) + ids[len(prompt_ids):]
        out_ids, out_labels = [], []
        for t, l in zip(ids, labels):
            n = self.image_positions if t == self.image_token else 1
            out_ids += [t] * n
            out_labels += [-100] * n if t == self.image_token else [l]
        return torch.tensor(out_ids), torch.tensor(out_labels)


def sequence_logps(model, ids, labels, mask, pixels, autocast):
    with autocast():
        logits = model(input_ids=ids, attention_mask=mask, pixel_values=pixels).logits
    return answer_logps(logits, labels)


def load_llava(folder, dtype):
    """LlavaForConditionalGeneration with sdpa, on whichever transformers the GPU machine has: `dtype`
    from 4.56 on, `torch_dtype` before."""
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    return LlavaForConditionalGeneration.from_pretrained(folder, attn_implementation="sdpa", **{key: dtype})


def vision_tower(model):
    """The tower: under `model.model` from transformers 4.52 on, on the model itself before."""
    inner = getattr(model, "model", None)
    return getattr(inner, "vision_tower", None) or model.vision_tower


def main():
    a = parse()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    torch.manual_seed(0)
    model = load_llava(a.model, torch.float32).to(device)
    config = model.config
    model.train()
    for p in vision_tower(model).parameters():
        p.requires_grad_(False)
    if a.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
    reference = None
    if a.reference == "live":
        reference = copy.deepcopy(model).eval()
        for p in reference.parameters():
            p.requires_grad_(False)
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(adamw_groups(trained, 0.02), lr=1e-6, betas=(0.9, 0.95), eps=1e-8, fused=device.type == "cuda")

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.bf16)

    seqs = Sequences(a.model, config)
    processor = AutoImageProcessor.from_pretrained(a.model)
    records = json.load(open(a.data))
    root = a.image_root or os.path.dirname(os.path.abspath(a.data))
    pad = config.pad_token_id if config.pad_token_id is not None else (seqs.tokenizer.pad_token_id or 0)

    def pixels_of(path):
        image = Image.open(os.path.join(root, path)).convert("RGB")
        return processor(images=image, return_tensors="pt")["pixel_values"]

    batches = []
    for r in records[:max(1, a.steps)]:
        rows = {k: seqs.build(r, k) for k in KINDS}
        chosen, rejected = pixels_of(r["chosen_images"][0]), pixels_of(r["rejected_images"][0])
        image_batch = [t.to(device) for t in padded([rows[k] for k in KINDS[:4]], pad)]
        text_batch = [t.to(device) for t in padded([rows[k] for k in KINDS[4:]], pad)]
        batches.append((image_batch, text_batch, torch.cat([chosen, rejected, chosen, rejected]).to(device)))
    while len(batches) < a.steps:
        batches.append(batches[len(batches) % len(records)])

    def six(m, batch):
        image_batch, text_batch, pixels = batch
        return torch.cat([sequence_logps(m, *image_batch, pixels, autocast), sequence_logps(m, *text_batch, None, autocast)])

    precomputed = []
    if reference is None:
        with torch.no_grad():
            precomputed = [six(model, b).detach() for b in batches]

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    step_seconds, losses = [], []
    for i, batch in enumerate(batches):
        sync()
        start = time.perf_counter()
        pi = six(model, batch)
        if reference is not None:
            with torch.no_grad():
                ref = six(reference, batch)
        else:
            ref = precomputed[i]
        loss = svco_loss(pi, ref)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in trained], 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        sync()
        step_seconds.append(time.perf_counter() - start)

    image_batch, text_batch, _ = batches[0]
    v = config.vision_config
    out = {
        "torch": torch.__version__, "transformers": transformers.__version__, "device": str(device),
        "bf16": a.bf16, "gradient_checkpointing": a.gradient_checkpointing, "reference": a.reference,
        "step_seconds": step_seconds, "losses": losses,
        "peak_memory_bytes": torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        # What each model's forward computes per record (for the FLOP count): rows x width per forward,
        # vision encodes (one per image row), logits at every position.
        "forwards": [list(image_batch[0].shape), list(text_batch[0].shape)],
        "image_positions_per_row": seqs.image_positions,
        "vision_encodes": int(image_batch[0].shape[0]),
        "vision_layers_run": v.num_hidden_layers,
        "scored_tokens": int(sum((b[1][:, 1:] != -100).sum().item() for b in (image_batch, text_batch))),
        "trained_parameters": sum(p.numel() for _, p in trained),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
