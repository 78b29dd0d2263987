"""The transformers peer of gpu-check's generation section: batched greedy answers with
LlavaForConditionalGeneration.generate on the questions `svco eval --benchmark mmvp` answers.

Prompts: the folder's chat template (user turn: the image, then the MMVP question with its options, as
svco's MMVP reader words it closely enough for lengths), each image placeholder expanded to the
model's image positions, rows left-padded; weights in --dtype; sdpa attention; greedy; exactly
--max-new-tokens per row (the folder's generation_config.json names no stop token). One warm-up
batch, then --batches timed batches (device synchronised; tokenising and preprocessing included, as
in svco's times). Prints one JSON object with new tokens/s.
Usage: peer_generate.py --model DIR --mmvp DIR [--device cuda] [--batch-size 8] [--batches 2]
[--max-new-tokens 64] [--dtype bfloat16]"""
import argparse
import csv
import json
import os
import time

import torch
from PIL import Image
from transformers import AutoImageProcessor, AutoTokenizer
import transformers

from peer_step import load_llava


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--mmvp", required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--batches", type=int, default=2)
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    dtype = getattr(torch, a.dtype)
    model = load_llava(a.model, dtype).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(a.model)
    processor = AutoImageProcessor.from_pretrained(a.model)
    template = json.load(open(os.path.join(a.model, "chat_template.json")))["chat_template"]
    config = model.config
    v = config.vision_config
    positions = (v.image_size // v.patch_size) ** 2
    pad = config.pad_token_id if config.pad_token_id is not None else 0

    rows = list(csv.DictReader(open(os.path.join(a.mmvp, "Questions.csv"))))
    need = a.batch_size * (a.batches + 1)
    rows = (rows * (need // max(1, len(rows)) + 1))[:need]

    def batch(items):
        ids, images = [], []
        for r in items:
            text = f"{r['Question']} {r['Options']}"
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
            prompt = tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False, add_generation_prompt=True)
            row = []
            for t in tokenizer(prompt).input_ids:
                row += [t] * (positions if t == config.image_token_index else 1)
            ids.append(row)
            path = os.path.join(a.mmvp, "MMVP Images", f"{r['Index']}.jpg")
            if not os.path.exists(path):
                path = os.path.join(a.mmvp, "MMVP Images", f"{r['Index']}.png")
            images.append(Image.open(path).convert("RGB"))
        width = max(len(r) for r in ids)
        input_ids = torch.tensor([[pad] * (width - len(r)) + r for r in ids])
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in ids])
        pixels = processor(images=images, return_tensors="pt")["pixel_values"].to(dtype)
        return input_ids.to(device), mask.to(device), pixels.to(device), width

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    seconds, widths, new_tokens = [], [], 0
    for b in range(a.batches + 1):
        sync()
        start = time.perf_counter()  # preparing the batch counts, as it does in svco's time
        input_ids, mask, pixels, width = batch(rows[b * a.batch_size:(b + 1) * a.batch_size])
        with torch.no_grad():
            out = model.generate(input_ids=input_ids, attention_mask=mask, pixel_values=pixels, do_sample=False,
                                 max_new_tokens=a.max_new_tokens, min_new_tokens=a.max_new_tokens, pad_token_id=pad)
        sync()
        if b > 0:
            seconds.append(time.perf_counter() - start)
            widths.append(width)
            new_tokens += (out.shape[1] - input_ids.shape[1]) * out.shape[0]
    print(json.dumps({"transformers": transformers.__version__, "torch": torch.__version__, "batch_seconds": seconds,
                      "prompt_widths": widths, "new_tokens": new_tokens, "tokens_per_s": new_tokens / sum(seconds)}))


if __name__ == "__main__":
    main()
