#!/usr/bin/env python3
"""Generates the tiny fixtures model and pairs (demo/tiny-llava, demo/mvc, demo/expected.json; everything under demo/
except this script, svco_torch_check.py, README.md and priors/). demo/tiny-llava is also the starting point of make demo's
base model (demo/priors/make_base.sh).

Pinned environment (dev time only; nothing here runs at run time or in CI):
    Python 3.11.7, torch 2.13.0+cpu, transformers 4.57.1, tokenizers 0.22.2,
    safetensors 0.6.2, pillow 12.0.0, jinja2 3.1.6
(/work/venv-demo: a venv over /work/venv-models plus pillow==12.0.0.)

Run from anywhere:  python demo/make_demo_assets.py
Running it twice gives byte-identical files (fixed seeds, sorted JSON, no timestamps).

What it writes:
  demo/tiny-llava/   a tiny LLaVA-1.5-style model folder as transformers' save_pretrained writes it
                     (config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
                     special_tokens_map.json, preprocessor_config.json, processor_config.json,
                     chat_template.json)
  demo/mvc/          MVC-format train.json / eval.json and the 32x32 PNG images they name
  demo/expected.json the six sequences (ids + labels) of two eval records, built the way the S-VCO
                     reference's LLaVA-1.5 collator builds them
"""

import json
import os
import random
import shutil
import sys

DEMO = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(DEMO, "tiny-llava")
MVC_DIR = os.path.join(DEMO, "mvc")
SEED = 20261127

PINNED = {"torch": "2.13.0+cpu", "transformers": "4.57.1", "tokenizers": "0.22.2",
          "safetensors": "0.6.2", "PIL": "12.0.0"}

# The llava-hf LLaVA-1.5 chat template (as llava-hf/llava-1.5-7b-hf ships it in chat_template.json).
# It already marks the assistant text with {% generation %}; the S-VCO reference relies on that
# through return_assistant_tokens_mask. Text rendered: "{system} USER: <image>\n{question} ASSISTANT: {answer} ".
LLAVA15_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}"
    "{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>\n' }}{% endfor %}"
    "{# Render all text next #}{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}"
    "{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)
# The copy used for the label spans: the assistant text wrapped in {% generation %}. The llava-hf
# template above already has exactly that wrapping, so the copy is the same string.
LLAVA15_TRAINING_TEMPLATE = LLAVA15_CHAT_TEMPLATE

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def check_versions():
    import PIL
    import safetensors
    import tokenizers
    import torch
    import transformers
    found = {"torch": torch.__version__, "transformers": transformers.__version__,
             "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__, "PIL": PIL.__version__}
    wrong = {k: (found[k], v) for k, v in PINNED.items() if found[k] != v}
    if wrong:
        sys.exit(f"version mismatch (found, pinned): {wrong}")


# --------------------------------------------------------------------------------------------
# 1. Images: minimal visual contrasts on a 32x32 canvas
# --------------------------------------------------------------------------------------------

COLOURS = {"red": (220, 30, 30), "blue": (30, 60, 220), "green": (30, 170, 50), "yellow": (235, 200, 20)}
BACKGROUND = (245, 245, 240)
SHAPES = ["square", "circle", "triangle"]


def draw_shape(draw, shape, cx, cy, half, colour):
    box = [cx - half, cy - half, cx + half - 1, cy + half - 1]
    if shape == "square":
        draw.rectangle(box, fill=colour)
    elif shape == "circle":
        draw.ellipse(box, fill=colour)
    elif shape == "triangle":
        draw.polygon([(cx, cy - half), (cx + half - 1, cy + half - 1), (cx - half, cy + half - 1)], fill=colour)
    else:
        raise ValueError(shape)


class ImagePool:
    """Renders each distinct scene once; records refer to the file by a relative path."""

    def __init__(self, folder):
        self.folder = folder
        self.made = {}

    def get(self, name, objects):
        """objects: list of (shape, cx, cy, half, colour name). Returns 'images/<name>.png'."""
        from PIL import Image, ImageDraw
        rel = f"images/{name}.png"
        if rel not in self.made:
            img = Image.new("RGB", (32, 32), BACKGROUND)
            d = ImageDraw.Draw(img)
            for shape, cx, cy, half, colour in objects:
                draw_shape(d, shape, cx, cy, half, COLOURS[colour])
            img.save(os.path.join(self.folder, rel), format="PNG", optimize=True)
            self.made[rel] = objects
        return rel


def a_or_an(word):
    return "an" if word[0] in "aeiou" else "a"


COUNT_WORDS = {1: "one", 2: "two", 3: "three"}
COUNT_LAYOUTS = {1: [(16, 16)], 2: [(10, 16), (22, 16)], 3: [(6, 16), (16, 16), (26, 16)]}


def make_pairs(pool):
    """All minimal-contrast pairs: (category, image A, image B, detail A, detail B, slots)."""
    pairs = []
    # left vs right, up vs down: same shape and colour, only the position differs
    for shape in SHAPES:
        for colour in ["red", "blue", "green"]:
            left = pool.get(f"{colour}-{shape}-left", [(shape, 8, 16, 6, colour)])
            right = pool.get(f"{colour}-{shape}-right", [(shape, 24, 16, 6, colour)])
            pairs.append(("left_right", left, right, "left", "right", dict(shape=shape, colour=colour)))
            top = pool.get(f"{colour}-{shape}-top", [(shape, 16, 8, 6, colour)])
            bottom = pool.get(f"{colour}-{shape}-bottom", [(shape, 16, 24, 6, colour)])
            pairs.append(("up_down", top, bottom, "top", "bottom", dict(shape=shape, colour=colour)))
    # colour: same shape in the centre, colour swapped
    for shape in SHAPES:
        for ca, cb in [("red", "blue"), ("green", "yellow"), ("blue", "green")]:
            a = pool.get(f"{ca}-{shape}-centre", [(shape, 16, 16, 8, ca)])
            b = pool.get(f"{cb}-{shape}-centre", [(shape, 16, 16, 8, cb)])
            pairs.append(("colour", a, b, ca, cb, dict(shape=shape)))
    # shape: same colour in the centre, shape swapped
    for colour in ["red", "blue", "yellow"]:
        for sa, sb in [("square", "circle"), ("circle", "triangle"), ("triangle", "square")]:
            a = pool.get(f"{colour}-{sa}-centre", [(sa, 16, 16, 8, colour)])
            b = pool.get(f"{colour}-{sb}-centre", [(sb, 16, 16, 8, colour)])
            pairs.append(("shape", a, b, sa, sb, dict(colour=colour)))
    # counting: one vs two, two vs three small shapes in a row
    for shape in ["circle", "square"]:
        for colour in ["red", "blue", "green"]:
            imgs = {n: pool.get(f"{colour}-{shape}-x{n}", [(shape, x, y, 4, colour) for x, y in COUNT_LAYOUTS[n]])
                    for n in (1, 2, 3)}
            for na, nb in [(1, 2), (2, 3)]:
                pairs.append(("count", imgs[na], imgs[nb], na, nb, dict(shape=shape, colour=colour)))
    # size: big vs small, same shape and colour in the centre
    for shape in SHAPES:
        for colour in ["red", "blue", "green"]:
            big = pool.get(f"{colour}-{shape}-big", [(shape, 16, 16, 12, colour)])
            small = pool.get(f"{colour}-{shape}-small", [(shape, 16, 16, 4, colour)])
            pairs.append(("size", big, small, "big", "small", dict(shape=shape, colour=colour)))
    return pairs


# Per category: instruction templates and matching response templates; {d} is the one detail that differs.
QUESTIONS = {
    "left_right": [("Where is the {shape}?", "The {shape} is on the {d}."),
                   ("Is the {colour} {shape} on the left or the right?", "It is on the {d}."),
                   ("On which side of the picture is the {shape}?", "The {shape} is on the {d} side."),
                   ("Describe where the {colour} {shape} is.", "The {colour} {shape} is on the {d}.")],
    "up_down": [("Where is the {shape}?", "The {shape} is at the {d}."),
                ("Is the {colour} {shape} at the top or the bottom?", "It is at the {d}."),
                ("Where in the image is the {colour} {shape}?", "The {colour} {shape} is at the {d}."),
                ("Is the {shape} high or low in the picture?", "The {shape} is at the {d}.")],
    "colour": [("What colour is the {shape}?", "The {shape} is {d}."),
               ("What is the colour of the shape?", "It is {d}."),
               ("Describe the {shape} in the image.", "There is a {d} {shape}."),
               ("Which colour does the {shape} have?", "The {shape} is {d}.")],
    "shape": [("What shape is in the image?", "It is {a} {d}."),
              ("What is the {colour} shape?", "The {colour} shape is {a} {d}."),
              ("Describe the shape in the picture.", "There is {a} {colour} {d}."),
              ("Which shape do you see?", "I see {a} {d}.")],
    "count": [("How many {shape}s are there?", "{count}"),
              ("Count the {colour} {shape}s.", "{count}"),
              ("How many {colour} {shape}s can you see?", "I can see {n} {shape_n}."),
              ("What is the number of {shape}s?", "The number is {n}.")],
    "size": [("Is the {shape} big or small?", "The {shape} is {d}."),
             ("How big is the {colour} {shape}?", "It is {d}."),
             ("Describe the size of the {shape}.", "The {shape} is {d}."),
             ("What size is the {colour} {shape}?", "The {colour} {shape} is {d}.")],
}
SYSTEM_PROMPTS = ["", "", "", "Answer in one short sentence.", "Look at the image and answer briefly."]


def response(category, template, detail, slots):
    shape = slots.get("shape", "")
    fields = dict(slots, d=detail)
    if category == "shape":
        fields["a"] = a_or_an(detail)
    if category == "count":
        n = COUNT_WORDS[detail]
        fields["n"] = n
        fields["shape_n"] = shape if detail == 1 else shape + "s"
        fields["count"] = f"There is one {shape}." if detail == 1 else f"There are {n} {shape}s."
    text = template.format(**fields)
    return text[0].upper() + text[1:]


def make_record(rng, pair, flip):
    category, img_a, img_b, det_a, det_b, slots = pair
    if flip:
        img_a, img_b, det_a, det_b = img_b, img_a, det_b, det_a
    question, answer = rng.choice(QUESTIONS[category])
    rec = {
        "system_prompt": rng.choice(SYSTEM_PROMPTS),
        "instruction_prompt": question.format(**slots),
        "chosen_images": [img_a],
        "rejected_images": [img_b],
        "chosen_response": response(category, answer, det_a, slots),
        "rejected_response": response(category, answer, det_b, slots),
    }
    assert rec["chosen_response"] != rec["rejected_response"]
    assert len(rec["chosen_response"].split()) < 12 and len(rec["rejected_response"].split()) < 12
    return rec


def build_mvc():
    if os.path.isdir(MVC_DIR):
        shutil.rmtree(MVC_DIR)
    os.makedirs(os.path.join(MVC_DIR, "images"))
    pool = ImagePool(MVC_DIR)
    pairs = make_pairs(pool)
    rng = random.Random(SEED)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    # 16 pairs are held out for evaluation; the training records come from the others (each
    # pair once, then again in the opposite order with a fresh question until there are 64).
    eval_idx, train_idx = order[:16], order[16:]
    eval_records = [make_record(rng, pairs[i], flip=rng.random() < 0.5) for i in eval_idx]
    train_records = []
    k = 0
    while len(train_records) < 64:
        i = train_idx[k % len(train_idx)]
        flip = (k // len(train_idx)) % 2 == 1
        train_records.append(make_record(rng, pairs[i], flip=flip if k >= len(train_idx) else rng.random() < 0.5))
        k += 1
    rng.shuffle(train_records)
    for name, recs in [("train.json", train_records), ("eval.json", eval_records)]:
        with open(os.path.join(MVC_DIR, name), "w", encoding="utf-8") as f:
            json.dump(recs, f, indent=1, ensure_ascii=False)
            f.write("\n")
    return train_records, eval_records


# --------------------------------------------------------------------------------------------
# 2. Tokenizer: LLaMA-style SentencePiece BPE (byte fallback), trained on a small corpus
# --------------------------------------------------------------------------------------------

BASE_CORPUS = """\
A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed,
and polite answers to the user's questions. USER: ASSISTANT: What is shown in this image? Describe the picture.
There is a small red square on the left side of the picture and a large blue circle on the right side.
The green triangle is at the top of the image, and the yellow square is at the bottom.
How many circles are there? There are two circles. There is one circle. There are three squares.
I can see a cat sitting on a chair next to the window. The dog is running in the park with a ball.
A man is holding an umbrella while walking down the street in the rain. Two children are playing.
The photo shows a kitchen with a white table, four chairs and a bowl of fruit. The sky is clear and blue.
Which side is the object on? Is it above or below the line? Is the shape big or small? What colour is it?
Answer the question about the image in one short sentence. Look at the image carefully and answer briefly.
Yes, it is. No, it is not. The number of objects is three. The object in the middle is green.
Where is the square? Where is the circle? Where is the triangle? What shape do you see? I see a circle.
The red circle is high in the picture. The blue square is low in the picture. Count the shapes.
She reads a book under a tree. They are eating dinner together at home. The car is parked near the house.
This is a simple test of visual understanding: position, colour, size, shape and number.
The old bridge crosses a wide river, and boats sail slowly under it. Birds fly over the water.
Please explain what happens in the scene. The woman wears a purple hat and a brown coat.
A train arrives at the station; people wait on the platform with bags and suitcases.
On the desk there are pens, a lamp, a computer and several books. The room looks bright.
Mountains rise behind the village, covered with snow. A road leads through green fields.
The orange ball is between the two boxes. The black box is larger than the white one.
Something is missing from the image? Nothing is missing. Everything looks normal.
Which object is closest to the camera? The bicycle is closest. The horse stands behind the fence.
Questions and answers help people learn about pictures, colours, objects and their positions.
"""


def corpus_lines(records):
    lines = [l for l in BASE_CORPUS.splitlines() if l.strip()]
    # The demo's own conversations as the template renders them (minus <image>), so that the
    # template words ("USER:", "ASSISTANT:") and the answers become whole pieces.
    for r in records:
        prefix = r["system_prompt"] + " " if r["system_prompt"] else ""
        for answer in (r["chosen_response"], r["rejected_response"]):
            lines.append(f"{prefix}USER: {r['instruction_prompt']} ASSISTANT: {answer} ")
    return lines


def build_tokenizer(records):
    """Returns a tokenizers.Tokenizer laid out like llava-hf/llava-1.5-7b-hf's tokenizer.json."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    # Train on words: the Metaspace split keeps merges inside "▁word" pieces, as SentencePiece does.
    # The saved tokenizer has no pre-tokenizer (like Llama's); since no merge crosses a "▁" from
    # the right, encoding whole strings gives the same pieces.
    trainer_tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    trainer_tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer_tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    trainer = trainers.BpeTrainer(vocab_size=448, min_frequency=1, special_tokens=[], show_progress=False,
                                  limit_alphabet=200)
    lines = corpus_lines(records)
    trainer_tok.train_from_iterator(lines, trainer=trainer)
    trained = json.loads(trainer_tok.to_str())["model"]
    learned = sorted(trained["vocab"].items(), key=lambda kv: kv[1])
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]

    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for piece, _ in learned:
        if piece not in vocab:
            vocab[piece] = len(vocab)

    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s>:0 $A:0", pair="<s>:0 $A:0 <s>:1 $B:1",
                                                       special_tokens=[("<s>", 1)])
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ("<unk>", "<s>", "</s>")])
    # LLaVA's additions after the base vocabulary, as in llava-hf (<image> 32000, <pad> 32001 there).
    tok.add_special_tokens([AddedToken("<image>", normalized=False, special=True),
                            AddedToken("<pad>", normalized=False, special=True)])
    return tok


# --------------------------------------------------------------------------------------------
# 3. Model folder: tokenizer + processor + tiny LlavaForConditionalGeneration, via save_pretrained
# --------------------------------------------------------------------------------------------

# Standard deviations of the re-drawn image-path weights (HF's default init draws all three with 0.02).
PATCH_EMBED_STD = 0.1
POSITION_EMBED_STD = 1.0
PROJECTOR_STD = 0.3


def rescale_image_path(model):
    """Re-draws three groups of image-path weights with larger scales so that a few dozen S-VCO steps
    can learn to use the image (the vision tower stays frozen in training).

    Why: under HF's default init (std 0.02) the CLIP patch embedding maps a 32x32 picture to tokens that
    are mostly the shared background, the position embeddings are swamped by patch content after
    pre_layrnorm, and the projector shrinks its input ~10x. The features of two minimally different
    images then barely differ, and the S-VCO terms that compare "image" with "no image" trade places
    for hundreds of steps. With patch std 0.1 (content dominates), position std 1.0 (every patch knows
    where it is: left/right, top/bottom) and projector std 0.3 (image tokens as large as the LM's own
    activations), the image features separate the pairs. Still random Gaussian weights, no hand-set
    values; drawn from a separate generator so the rest of the model is HF's default init unchanged."""
    import torch
    g = torch.Generator().manual_seed(SEED + 1)
    embeddings = model.vision_tower.vision_model.embeddings
    with torch.no_grad():
        embeddings.patch_embedding.weight.normal_(0, PATCH_EMBED_STD, generator=g)
        embeddings.position_embedding.weight.normal_(0, POSITION_EMBED_STD, generator=g)
        for linear in (model.multi_modal_projector.linear_1, model.multi_modal_projector.linear_2):
            linear.weight.normal_(0, PROJECTOR_STD, generator=g)


def build_model_folder(records):
    import torch
    from transformers import (CLIPImageProcessor, CLIPVisionConfig, LlamaConfig, LlamaTokenizerFast, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor)

    if os.path.isdir(MODEL_DIR):
        shutil.rmtree(MODEL_DIR)
    os.makedirs(MODEL_DIR)

    backend = build_tokenizer(records)
    tokenizer = LlamaTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", add_bos_token=True, add_eos_token=False, legacy=False,
                                   model_max_length=128, padding_side="left", clean_up_tokenization_spaces=False)
    image_processor = CLIPImageProcessor(
        do_resize=True, size={"shortest_edge": 32}, resample=3, do_center_crop=True,
        crop_size={"height": 32, "width": 32}, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
        image_mean=CLIP_MEAN, image_std=CLIP_STD, do_convert_rgb=True)
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=8,
                               vision_feature_select_strategy="default", chat_template=LLAVA15_CHAT_TEMPLATE,
                               image_token="<image>", num_additional_image_tokens=1)
    # chat_template.json (the llava-hf file layout) rather than 4.57's default chat_template.jinja.
    processor.save_pretrained(MODEL_DIR, save_jinja_files=False)

    image_id = tokenizer.convert_tokens_to_ids("<image>")
    pad_id = tokenizer.convert_tokens_to_ids("<pad>")
    vocab = len(tokenizer)
    padded_vocab = (vocab + 63) // 64 * 64  # llava-hf pads 32002 to 32064 the same way
    vision = CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                              image_size=32, patch_size=8, num_channels=3, hidden_act="quick_gelu",
                              layer_norm_eps=1e-5, projection_dim=64)
    text = LlamaConfig(vocab_size=padded_vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=256,
                       rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1,
                       eos_token_id=2, pad_token_id=pad_id)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=image_id,
                         projector_hidden_act="gelu", vision_feature_select_strategy="default",
                         vision_feature_layer=-2, image_seq_length=16, tie_word_embeddings=False,
                         pad_token_id=pad_id)
    torch.manual_seed(SEED)
    model = LlavaForConditionalGeneration(config).to(torch.float32).eval()
    rescale_image_path(model)
    model.save_pretrained(MODEL_DIR, safe_serialization=True)
    return image_id, pad_id


# --------------------------------------------------------------------------------------------
# 4. expected.json: the S-VCO reference collator's six sequences for two eval records
# --------------------------------------------------------------------------------------------

def reference_messages(record, kind):
    """The conversation the reference builds: [system], user = text then one image part per image, assistant."""
    images = {"c": record["chosen_images"], "r": record["rejected_images"], "n": []}[kind[0]]
    answer = record["chosen_response"] if kind[1] == "c" else record["rejected_response"]
    conv = []
    if record["system_prompt"]:
        conv.append({"role": "system", "content": [{"type": "text", "text": record["system_prompt"]}]})
    conv.append({"role": "user",
                 "content": [{"type": "text", "text": record["instruction_prompt"]}] + [{"type": "image"}] * len(images)})
    conv.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
    return conv, images


def reference_sequence(tokenizer, record, kind, max_len=128):
    """One sequence as the reference's LLaVA-1.5 dataset makes it (transformers 4.45 + its patched
    apply_chat_template): render with generation indices, tokenize WITH special tokens (BOS, and EOS
    because the tokenizer is loaded with add_eos_token=True), mark the tokens that hold the first and
    last character of each generation span and everything between, force the final token (EOS) into
    the mask, truncate to max_len (<image> is one token here), labels = ids where masked else -100."""
    from transformers.utils.chat_template_utils import render_jinja_template

    conv, images = reference_messages(record, kind)
    rendered, generation_indices = render_jinja_template(
        conversations=[conv], chat_template=LLAVA15_TRAINING_TEMPLATE, return_assistant_tokens_mask=True,
        add_generation_prompt=False, **tokenizer.special_tokens_map)
    text = rendered[0]
    enc = tokenizer(text, add_special_tokens=True)
    ids = list(enc["input_ids"])
    mask = [0] * len(ids)
    for start_char, end_char in generation_indices[0]:
        start_tok = enc.char_to_token(start_char)
        end_tok = enc.char_to_token(end_char - 1)
        if start_tok is None:
            break
        # The reference writes `end + 1 if end else len(input_ids)`, where len(input_ids) is the
        # batch size (1) under return_tensors="pt"; for these records end is never None or 0.
        assert end_tok
        for t in range(start_tok, end_tok + 1):
            mask[t] = 1
    mask[-1] = 1
    ids, mask = ids[:max_len], mask[:max_len]
    labels = [i if m else -100 for i, m in zip(ids, mask)]
    return {"text": text, "generation_spans": [list(s) for s in generation_indices[0]], "images": images,
            "input_ids": ids, "labels": labels}


def build_expected(eval_records):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR, add_eos_token=True)
    assert tokenizer("a").input_ids[0] == tokenizer.bos_token_id and tokenizer("a").input_ids[-1] == tokenizer.eos_token_id
    # one record with a system prompt and one without
    with_sys = next(i for i, r in enumerate(eval_records) if r["system_prompt"])
    without = next(i for i, r in enumerate(eval_records) if not r["system_prompt"])
    out = {
        "comment": "S-VCO reference LLaVA-1.5 collator (SVCO-SPEC.md section 2) on demo/mvc/eval.json; "
                   "ids before padding and before <image> expansion; made by demo/make_demo_assets.py",
        "max_length": 128,
        "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id, "image_token_id": tokenizer.convert_tokens_to_ids("<image>"),
        "chat_template": LLAVA15_TRAINING_TEMPLATE,
        "records": [],
    }
    for idx in sorted([without, with_sys]):
        rec = eval_records[idx]
        seqs = {kind: reference_sequence(tokenizer, rec, kind) for kind in ("cc", "rc", "cr", "rr", "nc", "nr")}
        out["records"].append({"eval_index": idx, "record": rec, "sequences": seqs})
    with open(os.path.join(DEMO, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return out


# --------------------------------------------------------------------------------------------
# 5. Checks with transformers: everything loads and renders as llava-hf's files do
# --------------------------------------------------------------------------------------------

def check_folder(eval_records):
    import torch
    from PIL import Image
    from safetensors import safe_open
    from transformers import AutoProcessor, AutoTokenizer, LlavaForConditionalGeneration

    with safe_open(os.path.join(MODEL_DIR, "model.safetensors"), "pt") as f:
        keys = sorted(f.keys())
    assert all(k.startswith(("vision_tower.vision_model.", "multi_modal_projector.", "language_model.model."))
               or k == "language_model.lm_head.weight" for k in keys), keys
    tok = AutoTokenizer.from_pretrained(MODEL_DIR)
    assert type(tok).__name__ == "LlamaTokenizerFast"
    proc = AutoProcessor.from_pretrained(MODEL_DIR)
    assert type(proc).__name__ == "LlavaProcessor"
    rec = eval_records[0]
    conv, images = reference_messages(rec, "cc")
    text = proc.apply_chat_template(conv, tokenize=False)
    assert text.startswith(("USER: <image>\n", rec["system_prompt"] + " USER: <image>\n")), text
    assert text.endswith(" ASSISTANT: " + rec["chosen_response"] + " "), text
    prompt = proc.apply_chat_template(conv[:-1], add_generation_prompt=True, tokenize=False)
    img = Image.open(os.path.join(MVC_DIR, images[0]))
    inputs = proc(images=img, text=prompt, return_tensors="pt")
    n_image = int((inputs["input_ids"] == tok.convert_tokens_to_ids("<image>")).sum())
    assert n_image == 16, n_image
    assert tuple(inputs["pixel_values"].shape) == (1, 3, 32, 32)
    model = LlavaForConditionalGeneration.from_pretrained(MODEL_DIR).eval()
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape[-1] == model.config.text_config.vocab_size
    assert torch.isfinite(logits).all()
    return keys


def main():
    check_versions()
    train, evals = build_mvc()
    image_id, pad_id = build_model_folder(train + evals)
    expected = build_expected(evals)
    keys = check_folder(evals)
    print(f"records: train {len(train)}, eval {len(evals)}; images {len(os.listdir(os.path.join(MVC_DIR, 'images')))}")
    print(f"<image> = {image_id}, <pad> = {pad_id}, bos = {expected['bos_token_id']}, eos = {expected['eos_token_id']}")
    print(f"checkpoint tensors: {len(keys)}")


if __name__ == "__main__":
    main()
