"""Reference side of `make bench` for generation: HF transformers' LlavaForConditionalGeneration.generate
(greedy, KV cache) on a batch of B prompts with one image each, N new tokens per row (EOS switched
off, so both sides generate exactly B*N tokens). Prints "tokens_per_s X" (whole generate calls),
"decode_tokens_per_s Y" (the steps after the first token: total time minus that of a one-token
call) and "prefill_s Z", and writes the generated ids, which svco-bench compares with its own.

Usage: reference.py MODEL WORKDIR BATCH NEW_TOKENS THREADS REPEATS
  MODEL: a model folder (demo/tiny-llava) or a LlavaConfig JSON (bench/models/llava-100m.json); a
  config gets random weights (seed 0) saved once as WORKDIR/<name>/ so svco loads the same weights.
Writes (once) WORKDIR/<name>-inputs.safetensors: left-padded input_ids, attention_mask, pixel_values.
Pinned: torch==2.13.0+cpu, transformers==4.57.1, safetensors==0.6.2 (scripts/bench.d/generate.sh)."""
import json
import os
import sys
import time

import torch
from safetensors.torch import load_file, save_file
from transformers import LlavaConfig, LlavaForConditionalGeneration

model_arg, workdir = sys.argv[1], sys.argv[2]
batch, new_tokens, threads, repeats = (int(a) for a in sys.argv[3:7])
torch.set_num_threads(threads)
os.makedirs(workdir, exist_ok=True)
name = os.path.splitext(os.path.basename(model_arg.rstrip("/")))[0]

if model_arg.endswith(".json"):
    folder = os.path.join(workdir, name)
    if not os.path.exists(os.path.join(folder, "model.safetensors")):
        torch.manual_seed(0)
        LlavaForConditionalGeneration(LlavaConfig(**json.load(open(model_arg)))).float().save_pretrained(folder)
else:
    folder = model_arg
model = LlavaForConditionalGeneration.from_pretrained(folder, dtype=torch.float32).eval()
config = model.config
pad = config.pad_token_id if config.pad_token_id is not None else 0

inputs_path = os.path.join(workdir, f"{name}-inputs.safetensors")
if not os.path.exists(inputs_path):
    # Row i: BOS, the image's feature positions, then 32 - 4i random text tokens; left-padded.
    g = torch.Generator().manual_seed(0)
    vision = config.vision_config
    n_img = (vision.image_size // vision.patch_size) ** 2
    rows = [[1] + [config.image_token_index] * n_img + torch.randint(3, 700, (max(4, 32 - 4 * i),), generator=g).tolist()
            for i in range(batch)]
    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    pixels = torch.randn(batch, 3, vision.image_size, vision.image_size, generator=g)
    save_file({"input_ids": ids, "attention_mask": mask, "pixel_values": pixels}, inputs_path)
inputs = load_file(inputs_path)
assert inputs["input_ids"].shape[0] == batch, f"{inputs_path} holds another batch size; delete it"

model.generation_config.eos_token_id = None  # generate exactly new_tokens per row
model.generation_config.pad_token_id = pad


def run(n):
    with torch.no_grad():
        return model.generate(**inputs, max_new_tokens=n, min_new_tokens=None, do_sample=False, use_cache=True)


run(4)  # warm-up
start = time.perf_counter()
for _ in range(repeats):
    out = run(new_tokens)
elapsed = time.perf_counter() - start
# One new token is the prefill (vision tower + prompt) alone; the rest of the time is decoding.
start = time.perf_counter()
for _ in range(repeats):
    run(1)
prefill = time.perf_counter() - start
generated = out[:, inputs["input_ids"].shape[1]:]
assert generated.shape == (batch, new_tokens), generated.shape
with open(os.path.join(workdir, f"{name}-reference-tokens.json"), "w") as f:
    json.dump(generated.tolist(), f)
print("tokens_per_s", batch * new_tokens * repeats / elapsed)
print("decode_tokens_per_s", batch * (new_tokens - 1) * repeats / (elapsed - prefill))
print("prefill_s", prefill / repeats)
