"""Reference side of the MVC-shaped training bench (scripts/bench.d/mvc-train.sh): one S-VCO optimiser
step per record with the S-VCO reference trainer's data flow on HF transformers — per record (batch 1)
the four image sequences (cc, rc, cr, rr; each encoding its own image) in one padded forward and the two
no-image sequences (nc, nr) in their own, through the policy (with grad) and a frozen reference copy
(no grad); per-sequence log-prob sums from the full logits (TRL's get_batch_logps); the S-VCO loss
(SVCO-SPEC section 3, betas 0.1); backward; global-norm clipping at 1.0; torch.optim.AdamW (lr 1e-6,
betas 0.9/0.95, weight decay 0.02 on matrices). Random weights from the LLaVA config; the rows are
svco's collated records (written by `svco-bench mvc-train ... --write-batch`), the first one a warm-up.
Prints "step_s_per_record X", "peak_rss_mb Y" and the token positions each forward computes.
Pinned: torch 2.13.0+cpu, transformers 4.57.1 (.deps/bench-py).
Usage: mvc_step_reference.py CONFIG BATCH.safetensors RECORDS THREADS"""
import copy
import json
import os
import resource
import sys
import time

import torch
from safetensors.torch import load_file
from transformers import LlavaConfig, LlavaForConditionalGeneration

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "peers"))
from reference_step import KINDS, adamw_groups, answer_logps, padded, svco_loss  # noqa: E402

config_path, batch_path, records, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
config = LlavaConfig(**json.load(open(config_path)))
policy = LlavaForConditionalGeneration(config).float().train()
reference = copy.deepcopy(policy).eval()
for p in reference.parameters():
    p.requires_grad_(False)
for p in policy.model.vision_tower.parameters():
    p.requires_grad_(False)
opt = torch.optim.AdamW(adamw_groups(policy.named_parameters(), 0.02), lr=1e-6, betas=(0.9, 0.95))
rows = load_file(batch_path)
pad = config.text_config.pad_token_id


def logps(model, ids, labels, mask, pixels):
    return answer_logps(model(input_ids=ids, attention_mask=mask, pixel_values=pixels).logits, labels)


positions = 0


def step(r):
    global positions
    seq = {k: (rows[f"r{r}.{k}.ids"], rows[f"r{r}.{k}.labels"]) for k in KINDS}
    c, rj = rows[f"r{r}.chosen"], rows[f"r{r}.rejected"]
    image_batch = padded([seq[k] for k in KINDS[:4]], pad)
    text_batch = padded([seq[k] for k in KINDS[4:]], pad)
    pixels = torch.cat([c, rj, c, rj])
    positions += image_batch[0].numel() + text_batch[0].numel()

    def six(model):
        cc, rc, cr, rr = logps(model, *image_batch, pixels)
        nc, nr = logps(model, *text_batch, None)
        return cc, rc, cr, rr, nc, nr

    pi = six(policy)
    with torch.no_grad():
        ref = six(reference)
    loss = svco_loss(pi, ref)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in policy.parameters() if p.requires_grad], 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    loss.item()


step(0)
positions = 0
start = time.perf_counter()
for r in range(1, records + 1):
    step(r)
print("step_s_per_record", (time.perf_counter() - start) / records)
print("peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print("policy_positions_per_record", positions / records)
print("reference_positions_per_record", positions / records)
print("image_encodes_per_record", 8)
