"""Reference side of `make bench` for training: one S-VCO optimiser step as a TRL-style trainer does it
with HF transformers — the six sequences of B records (4 of the 6 with an image) through the policy
(with grad) and a frozen reference copy (no grad), per-sequence log-prob sums, the S-VCO loss
(SVCO-SPEC §3), backward, global-norm clipping at 1.0, torch.optim.AdamW (lr 1e-6, betas 0.9/0.95,
weight decay 0.02 on matrices only), vision tower frozen. Random weights from a LLaVA config json,
random token ids of fixed length. Prints "step_s X" (mean over steps after a warm-up) and
"peak_rss_mb Y". Pinned: torch 2.13.0+cpu, transformers 4.57.1.
Usage: svco_step_reference.py CONFIG RECORDS TEXT_LEN STEPS THREADS"""
import copy
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
from transformers import LlavaConfig, LlavaForConditionalGeneration

config_path, records, text_len, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)
config = LlavaConfig(**json.load(open(config_path)))
policy = LlavaForConditionalGeneration(config).float().train()
reference = copy.deepcopy(policy).eval()
for p in reference.parameters():
    p.requires_grad_(False)
for p in policy.model.vision_tower.parameters():
    p.requires_grad_(False)
n_img = (config.vision_config.image_size // config.vision_config.patch_size) ** 2
rows = 6 * records
high = min(config.text_config.vocab_size, config.image_token_index)  # ordinary ids only
ids = torch.randint(3, high, (rows, text_len))
with_image = torch.tensor([k in (0, 1, 2, 3) for k in range(6) for _ in range(records)])  # cc rc cr rr have images
ids[with_image, 1 : 1 + n_img] = config.image_token_index
labels = ids.clone()
labels[:, : text_len // 2] = -100
mask = torch.ones_like(ids)
size = config.vision_config.image_size
pixels = torch.randn(int(with_image.sum()), 3, size, size)
decay = [p for n, p in policy.named_parameters() if p.requires_grad and not (n.endswith("bias") or "norm" in n)]
no_decay = [p for n, p in policy.named_parameters() if p.requires_grad and (n.endswith("bias") or "norm" in n)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.02}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-6, betas=(0.9, 0.95))


def logps(model):
    logits = model(input_ids=ids, attention_mask=mask, pixel_values=pixels).logits[:, :-1].float()
    tgt = labels[:, 1:]
    lp = torch.gather(logits.log_softmax(-1), 2, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (lp * (tgt != -100)).sum(-1).view(6, records)


def step():
    pi = logps(policy)
    with torch.no_grad():
        ref = logps(reference)
    cc, rc, cr, rr, nc, nr = range(6)
    loss = 0
    for w, l in ((cc, nc), (nc, rc), (rr, nr), (nr, cr)):
        loss = loss - F.logsigmoid(0.1 * ((pi[w] - pi[l]) - (ref[w] - ref[l])))
    loss.mean().backward()
    torch.nn.utils.clip_grad_norm_([p for p in policy.parameters() if p.requires_grad], 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)


step()
start = time.perf_counter()
for _ in range(steps):
    step()
print("step_s", (time.perf_counter() - start) / steps)
print("peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
