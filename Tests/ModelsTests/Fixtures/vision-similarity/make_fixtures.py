#!/usr/bin/env python3
# Reference fixtures for the image-similarity models of `svco data similarity` (ModelsTests'
# SigLIP-head and DINOv2 parity tests, CLITests' similarity end-to-end test).
#
# Pinned environment (dev time only; tests never run Python):
#   python 3.11, torch==2.13.0+cpu, transformers==4.57.1, safetensors==0.6.2, numpy==2.3.4, pillow==12.0.0
#   e.g. python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch==2.13.0+cpu transformers==4.57.1 \
#        safetensors==0.6.2 numpy==2.3.4 pillow==12.0.0
#   (here: PYTHONPATH=.deps/bench-py:.deps/dataset-fixtures-py python3, which hold exactly these)
# Run from the repository root after scripts/fetch-test-assets:
#   python3 Tests/ModelsTests/Fixtures/vision-similarity/make_fixtures.py
#
# Writes beside this script (everything seeded; a rerun with the pinned versions rewrites the same files):
#   siglip-tiny/    a full SiglipModel folder (vision + text halves, logit_scale/bias) as
#                   save_pretrained writes it, with a SiglipImageProcessor config (112 px, patch 14,
#                   attention-pooling head on)
#   dinov2-tiny/    a Dinov2Model folder trained at a 518-px grid (37 x 37 position embeddings, patch
#                   14) with facebook/dinov2-large's BitImageProcessor config (shortest edge 256,
#                   centre crop 224): used at 224 px, so the position embeddings are interpolated
#   dinov2-swiglu-tiny/
#                   the other DINOv2 switches (dinov2-giant's SwiGLU MLP, no mask token, no qkv bias,
#                   mlp_ratio 3.5) at a 56-px grid (4 x 4 positions), used at 70 px: position
#                   embeddings interpolated upwards
#   reference.safetensors
#                   model outputs for deterministic inputs (pixel values from `pattern`, which the
#                   Swift tests rebuild exactly): siglip.* (last_hidden_state, pooler_output =
#                   get_image_features) and dinov2.* (last_hidden_state, pooler_output) at 224x224
#                   and at a non-square 224x168 input
#   similarities.json
#                   real photos (skimage) and their flipped / cropped / recoloured variants (exact
#                   integer operations on the decoded pixels, rebuilt by the Swift test; CRC-32 of
#                   each image's RGB bytes recorded), pairs of them, and for each pair the cosine
#                   similarity of the two SigLIP image features and of the two DINOv2 pooler outputs,
#                   each image preprocessed by its folder's HF image processor (PIL-based classes).
import json
import os
import sys
import zlib

import numpy as np
import PIL
import safetensors.torch
import torch
import transformers
from PIL import Image, ImageOps
from transformers import (
    BitImageProcessor,
    Dinov2Config,
    Dinov2Model,
    SiglipConfig,
    SiglipImageProcessor,
    SiglipModel,
)

assert torch.__version__.startswith("2.13.0"), torch.__version__
assert transformers.__version__ == "4.57.1", transformers.__version__
assert PIL.__version__ == "12.0.0", PIL.__version__
assert np.__version__ == "2.3.4", np.__version__

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
ASSETS = os.path.join(ROOT, ".deps", "test-assets", "images", "skimage")
SEED = 20261209
torch.set_num_threads(1)

SIGLIP_PROCESSOR = {
    "do_convert_rgb": None,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_processor_type": "SiglipImageProcessor",
    "image_std": [0.5, 0.5, 0.5],
    "processor_class": "SiglipProcessor",
    "resample": 3,
    "rescale_factor": 0.00392156862745098,
    "size": {"height": 112, "width": 112},
}
# facebook/dinov2-large's preprocessor_config.json (public values, retyped).
DINOV2_PROCESSOR = {
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

PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"]


def siglip_config():
    text = dict(vocab_size=99, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
                max_position_embeddings=16, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_channels=3,
                  image_size=112, patch_size=14, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)
    return SiglipConfig(text_config=text, vision_config=vision)


def dinov2_config():
    # dinov2-large's architecture switches (gelu MLP, qkv bias, layer scale, mask token, 518-px
    # grid of patch 14) at width 32.
    return Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=4, hidden_act="gelu",
                        layer_norm_eps=1e-6, image_size=518, patch_size=14, num_channels=3, qkv_bias=True,
                        layerscale_value=1.0, use_swiglu_ffn=False, use_mask_token=True)


def dinov2_swiglu_config():
    return Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=3.5, hidden_act="gelu",
                        layer_norm_eps=1e-5, image_size=56, patch_size=14, num_channels=3, qkv_bias=False,
                        layerscale_value=1.0, use_swiglu_ffn=True, use_mask_token=False)


def randomise(model, seed):
    """Larger than HF's init, so that a wrong op shows in the outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            shape = p.shape
            if name.endswith("lambda1"):  # layer scale
                v = 0.5 + torch.rand(shape, generator=g)
            elif ("norm" in name) and name.endswith("weight"):
                v = 1.0 + 0.2 * torch.randn(shape, generator=g)
            elif name.endswith("bias"):
                v = 0.1 * torch.randn(shape, generator=g)
            elif any(k in name for k in ("position_embedding", "cls_token", "mask_token", "probe", "token_embedding")):
                v = 0.5 * torch.randn(shape, generator=g)
            elif name in ("logit_scale", "logit_bias"):
                v = torch.randn(shape, generator=g)
            else:
                v = 0.2 * torch.randn(shape, generator=g)
            p.copy_(v)


def pattern(shape):
    """Deterministic pixel values in [-1, 1] that the Swift tests rebuild exactly:
    value[i] = ((i * 7919) % 255) / 127.5 - 1 over the flattened tensor, as float32."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    v = ((i * 7919) % 255).astype(np.float32) / np.float32(127.5) - np.float32(1)
    return torch.from_numpy(v.reshape(shape))


def variants(rgb):
    """The exact integer variants the Swift test makes (see CLITests' DataSimilarityCLITests)."""
    h, w, _ = rgb.shape
    return {
        "flip": np.ascontiguousarray(rgb[:, ::-1]),
        "crop": np.ascontiguousarray(rgb[h // 8: h - h // 8, w // 6: w - w // 12]),
        "recolour": np.ascontiguousarray(rgb[:, :, [1, 2, 0]]),
    }


def crc(arr):
    return zlib.crc32(np.ascontiguousarray(arr).tobytes()) & 0xFFFFFFFF


def save_folder(model, name, processor):
    folder = os.path.join(HERE, name)
    model.save_pretrained(folder, safe_serialization=True)
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        json.dump(processor, f, indent=2, sort_keys=True)
        f.write("\n")
    keys = sorted(safetensors.torch.load_file(os.path.join(folder, "model.safetensors")).keys())
    print(f"{name}: {len(keys)} tensors, e.g. {keys[:2]} … {keys[-2:]}")
    return folder


def main():
    if not os.path.isdir(ASSETS):
        sys.exit(f"missing {ASSETS}: run scripts/fetch-test-assets first")
    torch.manual_seed(SEED)
    siglip = SiglipModel(siglip_config()).eval()
    randomise(siglip, SEED + 1)
    dinov2 = Dinov2Model(dinov2_config()).eval()
    randomise(dinov2, SEED + 2)
    save_folder(siglip, "siglip-tiny", SIGLIP_PROCESSOR)
    save_folder(dinov2, "dinov2-tiny", DINOV2_PROCESSOR)
    swiglu = Dinov2Model(dinov2_swiglu_config()).eval()
    randomise(swiglu, SEED + 3)
    save_folder(swiglu, "dinov2-swiglu-tiny", DINOV2_PROCESSOR)
    swiglu = Dinov2Model.from_pretrained(os.path.join(HERE, "dinov2-swiglu-tiny")).eval()
    # What was written loads back to the same model (and the vision half is what features use).
    siglip = SiglipModel.from_pretrained(os.path.join(HERE, "siglip-tiny")).eval()
    dinov2 = Dinov2Model.from_pretrained(os.path.join(HERE, "dinov2-tiny")).eval()

    tensors = {}
    with torch.no_grad():
        pv = pattern((2, 3, 112, 112))
        out = siglip.vision_model(pixel_values=pv)
        tensors["siglip.pixel_values_shape"] = torch.tensor(list(pv.shape))
        tensors["siglip.last_hidden_state"] = out.last_hidden_state.contiguous()
        tensors["siglip.pooler_output"] = siglip.get_image_features(pixel_values=pv).contiguous()
        assert torch.equal(tensors["siglip.pooler_output"], out.pooler_output)
        for tag, shape in (("square", (2, 3, 224, 224)), ("wide", (2, 3, 168, 224))):
            pv = pattern(shape)
            out = dinov2(pixel_values=pv)
            tensors[f"dinov2.{tag}.pixel_values_shape"] = torch.tensor(list(pv.shape))
            tensors[f"dinov2.{tag}.last_hidden_state"] = out.last_hidden_state.contiguous()
            tensors[f"dinov2.{tag}.pooler_output"] = out.pooler_output.contiguous()
        pv = pattern((2, 3, 70, 70))
        out = swiglu(pixel_values=pv)
        tensors["dinov2_swiglu.pixel_values_shape"] = torch.tensor(list(pv.shape))
        tensors["dinov2_swiglu.last_hidden_state"] = out.last_hidden_state.contiguous()
        tensors["dinov2_swiglu.pooler_output"] = out.pooler_output.contiguous()
        # The interpolated position embeddings themselves, 37x37 -> 16x16 (bicubic, no antialias).
        emb = dinov2.embeddings
        tensors["dinov2.square.position_embeddings"] = emb.interpolate_pos_encoding(
            torch.zeros(1, 257, 32), 224, 224).contiguous()
    safetensors.torch.save_file(tensors, os.path.join(HERE, "reference.safetensors"))

    siglip_processor = SiglipImageProcessor(**{k: v for k, v in SIGLIP_PROCESSOR.items() if k not in ("image_processor_type", "processor_class")})
    dinov2_processor = BitImageProcessor(**{k: v for k, v in DINOV2_PROCESSOR.items() if k != "image_processor_type"})
    images = {}
    for photo in PHOTOS:
        im = ImageOps.exif_transpose(Image.open(os.path.join(ASSETS, photo))).convert("RGB")
        rgb = np.asarray(im, dtype=np.uint8)
        stem = photo.rsplit(".", 1)[0]
        images[stem] = rgb
        for kind, arr in variants(rgb).items():
            images[f"{stem}-{kind}"] = arr

    features = {}
    with torch.no_grad():
        for name, rgb in images.items():
            pil = Image.fromarray(rgb, "RGB")
            s = siglip_processor(pil, return_tensors="pt")["pixel_values"]
            d = dinov2_processor(pil, return_tensors="pt")["pixel_values"]
            assert tuple(s.shape) == (1, 3, 112, 112) and tuple(d.shape) == (1, 3, 224, 224)
            features[name] = (siglip.get_image_features(pixel_values=s)[0], dinov2(pixel_values=d).pooler_output[0])

    pairs = []
    stems = [p.rsplit(".", 1)[0] for p in PHOTOS]
    for stem in stems:
        for kind in ("flip", "crop", "recolour"):
            pairs.append((stem, f"{stem}-{kind}"))
    pairs += [("astronaut", "chelsea"), ("coffee", "rocket"), ("chelsea-flip", "coffee-crop")]
    cos = torch.nn.functional.cosine_similarity
    out = {
        "photos": {p.rsplit(".", 1)[0]: f"skimage/{p}" for p in PHOTOS},
        "images": {name: {"height": int(rgb.shape[0]), "width": int(rgb.shape[1]), "crc32": crc(rgb)} for name, rgb in images.items()},
        "pairs": [
            {"images": [a, b],
             "siglip_similarity": float(cos(features[a][0], features[b][0], dim=0)),
             "dinov2_similarity": float(cos(features[a][1], features[b][1], dim=0))}
            for a, b in pairs
        ],
    }
    with open(os.path.join(HERE, "similarities.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for p in out["pairs"]:
        print(f"{p['images'][0]:>16} {p['images'][1]:>20}  siglip {p['siglip_similarity']:+.6f}  dinov2 {p['dinov2_similarity']:+.6f}")


if __name__ == "__main__":
    main()
