"""Reference side of `make bench` for the models: HF transformers' LlavaForConditionalGeneration,
random weights from bench/models/llava-100m.json, forward + per-sequence log-probs + backward on a
batch of B rows (one image each, text padded to T tokens). Prints "tokens_per_s X" and "peak_rss_mb Y".
Runs against the same libtorch 2.11.0 as svco (the wheel in .deps/py) and transformers==4.57.1."""
import json
import resource
import sys
import time

import torch
from transformers import LlavaConfig, LlavaForConditionalGeneration

config_path, batch, text_len, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)
config = LlavaConfig(**json.load(open(config_path)))
model = LlavaForConditionalGeneration(config).float()
model.train()
n_img = (config.vision_config.image_size // config.vision_config.patch_size) ** 2
ids = torch.randint(3, 31000, (batch, text_len))
ids[:, 1:1 + n_img] = config.image_token_index
labels = ids.clone()
labels[:, : 1 + n_img] = -100
pixels = torch.randn(batch, 3, config.vision_config.image_size, config.vision_config.image_size)
mask = torch.ones_like(ids)


def step():
    logits = model(input_ids=ids, attention_mask=mask, pixel_values=pixels).logits
    logp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, labels[:, 1:].clamp(min=0).unsqueeze(-1)).squeeze(-1)
    loss = -(logp * (labels[:, 1:] != -100)).sum()
    loss.backward()
    model.zero_grad(set_to_none=True)


step()  # warm-up
start = time.perf_counter()
for _ in range(steps):
    step()
elapsed = time.perf_counter() - start
print("tokens_per_s", batch * text_len * steps / elapsed)
print("peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
