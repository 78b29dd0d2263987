"""Makes the tiny JPEG and WebP images of the `svco eval` end-to-end tests (EvalEndToEndTests.swift):
the MMVP, TextVQA and CV-Bench-3D releases ship JPEGs and RealWorldQA ships WebPs, and the Images
module has encoders for neither. Each image is a coloured shape on a background of its own, so
the tiny model sees different inputs. Run: /work/fixture-venv/bin/python make_eval_images.py
Pinned: Python 3.11, pillow==12.0.0 (libjpeg-turbo and libwebp bundled in the wheel)."""
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).parent / "eval-images"
OUT.mkdir(exist_ok=True)

SCENES = [  # background, shape colour, box
    ((250, 240, 200), (200, 30, 30), (4, 4, 24, 20)),
    ((30, 60, 120), (240, 220, 40), (20, 10, 44, 32)),
    ((20, 120, 40), (255, 255, 255), (10, 14, 30, 34)),
    ((90, 90, 90), (0, 200, 220), (2, 20, 40, 34)),
]

for i, (background, colour, box) in enumerate(SCENES, start=1):
    image = Image.new("RGB", (48, 36), background)
    draw = ImageDraw.Draw(image)
    if i % 2:
        draw.rectangle(box, fill=colour)
    else:
        draw.ellipse(box, fill=colour)
    image.save(OUT / f"scene{i}.jpg", quality=90)
    image.save(OUT / f"scene{i}.webp", quality=80)
