#!/usr/bin/env python3
# Reference throughput for svco-bench's image benchmark: transformers' load_image
# (Image.open + ImageOps.exif_transpose + convert("RGB")) followed by the HF image processor
# (PIL-based, return_tensors="np"), one image at a time on one thread, timed with the process
# CPU clock (as svco-bench's ImageBench) so that a busy machine does not skew the ratio.
# Pinned: Python 3.11, pillow==12.0.0, transformers==4.57.1, numpy==2.3.4
# Usage: reference.py --processor-dir DIR [--seconds 3] [--json OUT] FILE...
import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from PIL import Image, ImageOps  # noqa: E402
from transformers import AutoImageProcessor  # noqa: E402


def load_image(path):
    image = Image.open(path)
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--processor-dir", required=True)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    processor = AutoImageProcessor.from_pretrained(args.processor_dir, use_fast=False)
    for f in args.files:  # warm-up
        processor(load_image(f), return_tensors="np")
    images = 0
    start = time.process_time()
    while True:
        for f in args.files:
            processor(load_image(f), return_tensors="np")
            images += 1
        if time.process_time() - start >= args.seconds:
            break
    rate = images / (time.process_time() - start)
    result = {"images_per_second": rate, "processor": type(processor).__name__, "files": len(args.files)}
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh)


if __name__ == "__main__":
    main()
