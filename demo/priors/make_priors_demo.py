#!/usr/bin/env python3
"""Generates the data of `make demo` (demo/priors): a toy world of coloured shapes on 32x32 pictures
in which the *text* of a question predicts its answer most of the time (a language prior), minimal-
contrast training pairs in which it does not, and a held-out MMVP-style paired benchmark.

Pinned environment (dev time only; nothing here runs in `make demo` or CI):
    Python 3.11.7, pillow 12.0.0  (e.g. python3 -m venv .deps/demo-prior-venv && pip install pillow==12.0.0)

Run from anywhere:  python demo/priors/make_priors_demo.py
Running it twice gives byte-identical files (one seeded generator per output, sorted output, no timestamps).

What it writes (all under demo/priors/):
  sft.json             MVC-format records for `svco train --loss sft` (the base model's instruction tuning):
                       each record is two independent (image, answer) samples of one question, drawn with the
                       prior (the answer the question's wording suggests is right 90% of the time)
  pairs.json           MVC-format minimal-contrast pairs for S-VCO / DPO: two pictures that differ only in the
                       asked detail, one question, the answer true for each picture (the prior is no help: each
                       pair has one picture for each answer)
  images/              the JPEGs sft.json and pairs.json name
  mmvp/Questions.csv   the held-out benchmark in MMVP's public layout (Index, Question, Options, Correct Answer;
  mmvp/MMVP Images/    rows 2k-1 and 2k ask the same question about the two pictures of pair k), read by
                       `svco eval --benchmark mmvp` as the real MMVP
  mmvp/pairs.json      per benchmark pair: its family, the question and the answer the prior suggests (for the
                       demo's report: accuracy on the questions whose picture contradicts the prior)

Every picture is a JPEG (quality 95, no chroma subsampling), training and benchmark alike, so the two differ
only in what is drawn, never in how it is stored.
"""

import csv
import io
import json
import os
import random
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261215
PINNED = {"PIL": "12.0.0"}

SIZE = 32
BACKGROUND = (245, 245, 240)
COLOURS = {"red": (220, 30, 30), "blue": (30, 60, 220), "green": (30, 170, 50), "yellow": (235, 200, 20)}
SHAPES = ["square", "circle", "triangle"]

# How often the answer the wording suggests is the right one in the instruction-tuning data.
PRIOR_STRENGTH = 0.95

# Each family: one question template, two options (always in this order: (a) first), the attributes that
# vary over its questions, and the answer the wording suggests (keyed by the attribute named in `prior_by`).
FAMILIES = {
    "side": dict(question="Is the {colour} {shape} on the left or the right?", options=("left", "right"),
                 colours=["red", "blue", "green", "yellow"], shapes=SHAPES, prior_by="colour",
                 prior={"red": "left", "blue": "right", "green": "left", "yellow": "right"}),
    "level": dict(question="Is the {colour} {shape} at the top or the bottom?", options=("top", "bottom"),
                  colours=["red", "blue", "green", "yellow"], shapes=SHAPES, prior_by="shape",
                  prior={"square": "top", "circle": "bottom", "triangle": "top"}),
    "colour": dict(question="What colour is the {shape}?", options=("red", "blue"),
                   colours=[None], shapes=SHAPES, prior_by="shape",
                   prior={"square": "red", "circle": "blue", "triangle": "blue"}),
    "size": dict(question="Is the {colour} {shape} big or small?", options=("big", "small"),
                 colours=["red", "blue", "green", "yellow"], shapes=SHAPES, prior_by="shape",
                 prior={"square": "big", "circle": "small", "triangle": "big"}),
    "count": dict(question="How many {colour} {shape}s are there?", options=("one", "two"),
                  colours=["red", "blue", "green", "yellow"], shapes=SHAPES, prior_by="colour",
                  prior={"red": "two", "blue": "one", "green": "two", "yellow": "one"}),
}

# Samples per question in sft.json, minimal pairs per question in pairs.json, held-out pairs per question
# (the colour family has 3 questions against 12 for the others, so it gets 4x as many of each).
SFT_SAMPLES = 40
SFT_POOL = 6  # distinct pictures per question and answer in sft.json
TRAIN_PAIRS = 4
BENCH_PAIRS = 2


def check_versions():
    import PIL
    found = {"PIL": PIL.__version__}
    wrong = {k: (found[k], v) for k, v in PINNED.items() if found[k] != v}
    if wrong:
        sys.exit(f"version mismatch (found, pinned): {wrong}")


def questions():
    """Every (family, colour, shape) the data asks about, in a fixed order."""
    out = []
    for family, spec in FAMILIES.items():
        for colour in spec["colours"]:
            for shape in spec["shapes"]:
                out.append((family, colour, shape))
    return out


def weight(family):
    return 4 if family == "colour" else 1


def question_text(family, colour, shape):
    return FAMILIES[family]["question"].format(colour=colour, shape=shape)


def options_text(family):
    a, b = FAMILIES[family]["options"]
    return f"(a) {a} (b) {b}"


def prior_answer(family, colour, shape):
    spec = FAMILIES[family]
    return spec["prior"][colour if spec["prior_by"] == "colour" else shape]


def letter(family, value):
    return "(a)" if FAMILIES[family]["options"].index(value) == 0 else "(b)"


def response(family, value):
    """The answer as the model is taught to give it: the option's bare letter ("a"), as "answer with the
    option's letter directly" asks. Not "(a) left": this small vocabulary has no "▁(" piece, so the space
    before "(" would be a token of its own, outside the scored answer span (the span starts at "(", as in
    the S-VCO reference), and the first generated token would never be trained."""
    return letter(family, value).strip("()")


# --------------------------------------------------------------------------------------------
# Scenes: what is drawn. A layout is drawn once per pair, so the two pictures of a minimal pair
# differ only in the asked detail.
# --------------------------------------------------------------------------------------------

def layout(rng, family):
    """The random placement shared by both pictures of a pair."""
    return dict(a=rng.randint(0, 3), b=rng.randint(9, 23), half=rng.randint(5, 7), jitter=rng.randint(-2, 2),
                small=rng.randint(4, 5), big=rng.randint(10, 12), second=rng.randint(9, 23))


def objects(family, colour, shape, value, lay):
    """The objects of one picture: (shape, cx, cy, half, colour name)."""
    if family == "side":
        cx = 7 + lay["a"] if value == "left" else 22 + lay["a"]
        return [(shape, cx, lay["b"], lay["half"], colour)]
    if family == "level":
        cy = 7 + lay["a"] if value == "top" else 22 + lay["a"]
        return [(shape, lay["b"], cy, lay["half"], colour)]
    if family == "colour":
        return [(shape, 16 + lay["jitter"], 16 - lay["jitter"], lay["half"] + 2, value)]
    if family == "size":
        half = lay["big"] if value == "big" else lay["small"]
        shift = lay["jitter"] if value == "small" else lay["jitter"] // 2
        return [(shape, 16 + shift, 16 + lay["jitter"] // 2, half, colour)]
    if family == "count":
        first = (shape, 7 + lay["a"], lay["b"], lay["small"], colour)
        if value == "one":
            return [first]
        return [first, (shape, 22 + lay["a"], lay["second"], lay["small"], colour)]
    raise ValueError(family)


def draw(objs):
    """The picture as JPEG bytes."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    d = ImageDraw.Draw(img)
    for shape, cx, cy, half, colour in objs:
        box = [cx - half, cy - half, cx + half - 1, cy + half - 1]
        fill = COLOURS[colour]
        if shape == "square":
            d.rectangle(box, fill=fill)
        elif shape == "circle":
            d.ellipse(box, fill=fill)
        elif shape == "triangle":
            d.polygon([(cx, cy - half), (cx + half - 1, cy + half - 1), (cx - half, cy + half - 1)], fill=fill)
        else:
            raise ValueError(shape)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=95, subsampling=0, optimize=True)
    return buf.getvalue()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, ensure_ascii=False)
        f.write("\n")


def prompt(family, colour, shape):
    """The instruction exactly as `svco eval` asks MMVP questions: question, options, LLaVA's instruction."""
    return question_text(family, colour, shape) + " " + options_text(family) + "\n" + MULTIPLE_CHOICE_INSTRUCTION


# Sources/Evaluation/BenchmarkQuestion.swift's multipleChoiceInstruction (LLaVA's evaluation prompt).
MULTIPLE_CHOICE_INSTRUCTION = "Answer with the option's letter from the given choices directly."


def slug(family, colour, shape):
    return "-".join(x for x in (family, colour, shape) if x)


# --------------------------------------------------------------------------------------------
# 1. sft.json: the instruction-tuning data, with the prior
# --------------------------------------------------------------------------------------------

def build_sft():
    rng = random.Random(SEED)
    records = []
    for family, colour, shape in questions():
        prior = prior_answer(family, colour, shape)
        other = [v for v in FAMILIES[family]["options"] if v != prior][0]
        # A pool of pictures per answer, drawn once and reused by the samples (fewer files to ship).
        pool = {}
        for value in (prior, other):
            pool[value] = []
            for k in range(SFT_POOL * weight(family)):
                rel = f"images/sft-{slug(family, colour, shape)}-{value}-{k}.jpg"
                write(os.path.join(HERE, rel), draw(objects(family, colour or value, shape, value, layout(rng, family))))
                pool[value].append(rel)
        samples = []
        for _ in range(SFT_SAMPLES * weight(family)):
            value = prior if rng.random() < PRIOR_STRENGTH else other
            samples.append((rng.choice(pool[value]), value))
        for (img_a, val_a), (img_b, val_b) in zip(samples[0::2], samples[1::2]):
            records.append({
                "system_prompt": "",
                "instruction_prompt": prompt(family, colour, shape),
                "chosen_images": [img_a], "rejected_images": [img_b],
                "chosen_response": response(family, val_a), "rejected_response": response(family, val_b),
            })
    rng.shuffle(records)
    write_json(os.path.join(HERE, "sft.json"), records)
    return records


# --------------------------------------------------------------------------------------------
# 2. pairs.json (training) and mmvp/ (held out): minimal pairs, one picture per answer
# --------------------------------------------------------------------------------------------

def minimal_pairs(rng, count, prefix):
    """count(family) pairs per question; each: the question, the two values and the two JPEGs."""
    pairs = []
    for family, colour, shape in questions():
        a, b = FAMILIES[family]["options"]
        for k in range(count * weight(family)):
            lay = layout(rng, family)
            pics = {v: draw(objects(family, colour or v, shape, v, lay)) for v in (a, b)}
            pairs.append(dict(family=family, colour=colour, shape=shape, name=f"{prefix}-{slug(family, colour, shape)}-{k}",
                              pictures=pics))
    return pairs


def build_pairs():
    rng = random.Random(SEED + 1)
    records = []
    for p in minimal_pairs(rng, TRAIN_PAIRS, "pair"):
        a, b = FAMILIES[p["family"]]["options"]
        paths = {}
        for v in (a, b):
            paths[v] = f"images/{p['name']}-{v}.jpg"
            write(os.path.join(HERE, paths[v]), p["pictures"][v])
        # As in MVC, which picture is "chosen" is arbitrary: DPO learns from the chosen one only.
        chosen, rejected = (a, b) if rng.random() < 0.5 else (b, a)
        records.append({
            "system_prompt": "",
            "instruction_prompt": prompt(p["family"], p["colour"], p["shape"]),
            "chosen_images": [paths[chosen]], "rejected_images": [paths[rejected]],
            "chosen_response": response(p["family"], chosen), "rejected_response": response(p["family"], rejected),
        })
    rng.shuffle(records)
    write_json(os.path.join(HERE, "pairs.json"), records)
    return records


def build_benchmark():
    rng = random.Random(SEED + 2)
    root = os.path.join(HERE, "mmvp")
    pairs = minimal_pairs(rng, BENCH_PAIRS, "bench")
    rng.shuffle(pairs)
    rows, meta = [], []
    for k, p in enumerate(pairs):
        family = p["family"]
        values = list(FAMILIES[family]["options"])
        rng.shuffle(values)  # which picture of the pair comes first
        first = 2 * k + 1
        for j, v in enumerate(values):
            write(os.path.join(root, "MMVP Images", f"{first + j}.jpg"), p["pictures"][v])
            rows.append([str(first + j), question_text(family, p["colour"], p["shape"]), options_text(family), letter(family, v)])
        meta.append({"pair": k + 1, "indices": [first, first + 1], "family": family,
                     "question": question_text(family, p["colour"], p["shape"]),
                     "answers": [letter(family, v) for v in values],
                     "prior_answer": letter(family, prior_answer(family, p["colour"], p["shape"]))})
    with open(os.path.join(root, "Questions.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Index", "Question", "Options", "Correct Answer"])
        w.writerows(rows)
    write_json(os.path.join(root, "pairs.json"), meta)
    return meta


def main():
    check_versions()
    for sub in ("images", "mmvp"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    sft = build_sft()
    pairs = build_pairs()
    bench = build_benchmark()
    n_img = len(os.listdir(os.path.join(HERE, "images")))
    print(f"sft records {len(sft)} ({2 * len(sft)} samples), training pairs {len(pairs)}, "
          f"benchmark pairs {len(bench)} ({2 * len(bench)} questions); training images {n_img}")


if __name__ == "__main__":
    main()
