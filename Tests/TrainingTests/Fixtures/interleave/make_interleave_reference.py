#!/usr/bin/env python3
"""Reference numbers for ONE S-VCO training step (SVCO-SPEC.md sections 2-4) on a tiny
LLaVA-Interleave model (SigLIP + Qwen2, ChatML template, byte-level BPE tokenizer).

Pinned environment (dev time only; tests never run this):
    Python 3.11.7, torch 2.13.0+cpu, transformers 4.57.1, tokenizers 0.22.2,
    safetensors 0.6.2, pillow 12.0.0   (/work/venv-demo, see demo/make_demo_assets.py)

Run:  /work/venv-demo/bin/python Tests/TrainingTests/Fixtures/interleave/make_interleave_reference.py
Deterministic (fixed seeds, one CPU thread, deterministic algorithms, sorted JSON): running it twice
gives byte-identical files.

The loss, log-prob and optimiser code is shared with the LLaVA-1.5 script one folder up
(../make_train_reference.py); this script adds what differs for the second family:
  - a tiny interleave model folder, made here with save_pretrained (`model/`, the frozen REFERENCE):
    SiglipVisionModel (no head) + Qwen2 with TIED embeddings, strategy "full", feature layer -1,
    a Qwen2-style tokenizer (NFC, GPT-4-style split, byte-level BPE trained on the demo text,
    <|endoftext|> = pad, <|im_start|>, <|im_end|> = eos, then LLaVA's <image>), SiglipImageProcessor
    and llava-hf's llava-interleave-qwen chat template (chat_template.json);
  - SigLIP's post_layernorm is switched OFF on the selected features, as the S-VCO reference
    (transformers 4.45) computes them (see Tests/ModelsTests/Fixtures/README.md, "Vision towers");
  - the interleave sequence rules of SVCO-SPEC section 2: no BOS, no EOS added by the tokenizer, the
    generation span is the newline after `<|im_start|>assistant ` plus the answer; the final token
    (`<|im_end|>`) is NOT forced into the labels (only LLaVA-1.5's collator does that).

Writes, next to this script:
  model/                    the reference model folder (HF init, seeded)
  policy/                   model/ + N(0, 0.02^2) noise on every projector and language-model tensor
  reference.safetensors     the batch and the per-sequence log-probs (as one folder up)
  reference.json            loss, metrics (train and eval mode), grad_norm, rows, settings
  after_step.safetensors    selected policy parameters after one AdamW step
  grads.safetensors         the same parameters' gradients before clipping
"""

import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import make_train_reference as common  # noqa: E402  (loss, logps, optimiser step, version pins)

REPO = common.REPO
DEMO = common.DEMO
MODEL_DIR = os.path.join(HERE, "model")
POLICY_DIR = os.path.join(HERE, "policy")
SEED = 20261128
# Short enough that the record with a system prompt is cut inside its response (truncation counts
# <image> as one token; the tokenizer's model_max_length stays 128).
MAX_LENGTH = 42
RECORD_INDICES = [0, 2]      # demo/mvc/eval.json: record 0 has no system prompt, record 2 has one
KINDS = common.KINDS
RECORDED_PARAMS = [
    "multi_modal_projector.linear_1.weight",
    "multi_modal_projector.linear_2.bias",
    "language_model.model.layers.0.self_attn.q_proj.weight",
    "language_model.model.layers.0.self_attn.q_proj.bias",
    "language_model.model.layers.1.mlp.down_proj.weight",
    "language_model.model.norm.weight",
    "language_model.model.embed_tokens.weight",  # tied: also the output layer
]
SIGLIP_MEAN = [0.5, 0.5, 0.5]
SIGLIP_STD = [0.5, 0.5, 0.5]
# GPT-4-style split as Qwen2's tokenizer.json has it (one digit per piece).
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
               r"\s*[\r\n]+|\s+(?!\S)|\s+")
# llava-hf/llava-interleave-qwen-7b-hf's chat template (ChatML; images before the text of a turn;
# the assistant's "\n" + text wrapped in {% generation %}).
INTERLEAVE_CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + ' '}}"
    "{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>' }}{% endfor %}"
    "{# Render all video then #}{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}"
    "{{ '<video>' }}{% endfor %}"
    "{# Render all text next #}{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\n' + content['text'] }}{% endfor %}"
    "{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ '\n' + content['text'] }}{% endgeneration %}{% endfor %}{% endif %}"
    "{{'<|im_end|>'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def is_trainable(pub):
    return common.is_trainable(pub)


# --------------------------------------------------------------------------------------------
# 1. Tokenizer and model folders
# --------------------------------------------------------------------------------------------

def build_tokenizer():
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    sys.path.insert(0, DEMO)
    import make_demo_assets as demo  # noqa: E402

    records = json.load(open(os.path.join(DEMO, "mvc", "train.json"), encoding="utf-8"))
    records += json.load(open(os.path.join(DEMO, "mvc", "eval.json"), encoding="utf-8"))
    lines = [l for l in demo.BASE_CORPUS.splitlines() if l.strip()]
    for r in records:
        for answer in (r["chosen_response"], r["rejected_response"]):
            lines.append(f"{r['system_prompt']}\nuser \n{r['instruction_prompt']}\nassistant \n{answer}\n")
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=360, min_frequency=2, show_progress=False, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer=trainer)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    # Qwen2's specials follow the ranks; LLaVA-Interleave adds <image> after them.
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True)
                            for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>")])
    return tok


def build_model_folder():
    from transformers import (LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor, Qwen2Config,
                              Qwen2TokenizerFast, SiglipImageProcessor, SiglipVisionConfig)

    if os.path.isdir(MODEL_DIR):
        shutil.rmtree(MODEL_DIR)
    os.makedirs(MODEL_DIR)
    tokenizer = Qwen2TokenizerFast(tokenizer_object=build_tokenizer(), eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", unk_token=None, bos_token=None,
                                   model_max_length=128, padding_side="left",
                                   clean_up_tokenization_spaces=False, errors="replace")
    image_processor = SiglipImageProcessor(do_resize=True, size={"height": 32, "width": 32}, resample=3,
                                           do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                                           image_mean=SIGLIP_MEAN, image_std=SIGLIP_STD, do_convert_rgb=True)
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=8,
                               vision_feature_select_strategy="full", chat_template=INTERLEAVE_CHAT_TEMPLATE,
                               image_token="<image>", num_additional_image_tokens=0)
    processor.save_pretrained(MODEL_DIR, save_jinja_files=False)

    image_id = tokenizer.convert_tokens_to_ids("<image>")
    pad_id = tokenizer.pad_token_id
    eos_id = tokenizer.eos_token_id
    vocab = (len(tokenizer) + 63) // 64 * 64
    vision = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                                image_size=32, patch_size=8, num_channels=3, hidden_act="gelu_pytorch_tanh",
                                layer_norm_eps=1e-6, vision_use_head=False)
    text = Qwen2Config(vocab_size=vocab, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=256,
                       rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False,
                       bos_token_id=None, eos_token_id=eos_id, pad_token_id=pad_id)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=image_id,
                         projector_hidden_act="gelu", vision_feature_select_strategy="full",
                         vision_feature_layer=-1, image_seq_length=16, tie_word_embeddings=True,
                         pad_token_id=pad_id, eos_token_id=eos_id)
    torch.manual_seed(SEED)
    model = LlavaForConditionalGeneration(config).to(torch.float32).eval()
    model.save_pretrained(MODEL_DIR, safe_serialization=True)
    return image_id, pad_id, eos_id


def load(folder, attn="sdpa"):
    from transformers import LlavaForConditionalGeneration

    model, info = LlavaForConditionalGeneration.from_pretrained(folder, dtype=torch.float32, attn_implementation=attn,
                                                                output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    assert not bad, (folder, bad)
    # 4.57.1 applies SigLIP's post_layernorm to hidden_states[-1]; the S-VCO reference (4.45) does not.
    ln = model.model.vision_tower.vision_model.post_layernorm
    ln.forward = lambda x: x
    return model


def make_policy():
    from safetensors import safe_open
    from safetensors.torch import save_file

    reference = load(MODEL_DIR)
    reference.eval()
    state = {common.published_name(n): p.detach().clone() for n, p in reference.named_parameters()}
    with safe_open(os.path.join(MODEL_DIR, "model.safetensors"), "pt") as f:
        # Tied: no language_model.lm_head.weight in the file, and none among the parameters.
        assert set(f.keys()) == set(state), sorted(set(f.keys()) ^ set(state))
    assert "language_model.lm_head.weight" not in state
    assert reference.lm_head.weight is reference.get_input_embeddings().weight
    gen = torch.Generator().manual_seed(SEED)
    for name in sorted(state):
        if is_trainable(name):
            state[name] = state[name] + torch.randn(state[name].shape, generator=gen, dtype=torch.float32) * common.NOISE_STD
    if os.path.isdir(POLICY_DIR):
        shutil.rmtree(POLICY_DIR)
    os.makedirs(POLICY_DIR)
    for fname in sorted(os.listdir(MODEL_DIR)):
        if fname != "model.safetensors":
            shutil.copyfile(os.path.join(MODEL_DIR, fname), os.path.join(POLICY_DIR, fname))
    save_file({k: state[k].contiguous() for k in sorted(state)}, os.path.join(POLICY_DIR, "model.safetensors"),
              metadata={"format": "pt"})
    policy = load(POLICY_DIR)
    for n, p in policy.named_parameters():
        assert torch.equal(p.detach(), state[common.published_name(n)]), n
    for p in reference.parameters():
        p.requires_grad_(False)
    return policy, reference


# --------------------------------------------------------------------------------------------
# 2. The batch (interleave rules)
# --------------------------------------------------------------------------------------------

def interleave_sequence(tokenizer, record, kind):
    """One interleave sequence: render with generation indices, tokenize (Qwen2 adds no special
    tokens), mark the tokens holding the first and last character of each generation span and
    everything between, truncate to MAX_LENGTH (<image> is one token), labels = ids where marked."""
    from transformers.utils.chat_template_utils import render_jinja_template

    sys.path.insert(0, DEMO)
    import make_demo_assets as demo  # noqa: E402

    conv, images = demo.reference_messages(record, kind)
    rendered, generation_indices = render_jinja_template(
        conversations=[conv], chat_template=INTERLEAVE_CHAT_TEMPLATE, return_assistant_tokens_mask=True,
        add_generation_prompt=False, **tokenizer.special_tokens_map)
    text = rendered[0]
    enc = tokenizer(text, add_special_tokens=True)
    ids = list(enc["input_ids"])
    assert tokenizer.convert_tokens_to_ids("<|im_start|>") == ids[0]  # no BOS
    assert ids[-1] == tokenizer.eos_token_id  # the template's own <|im_end|>, not an added EOS
    truncated = len(ids) > MAX_LENGTH
    mask = [0] * len(ids)
    for start_char, end_char in generation_indices[0]:
        start_tok = enc.char_to_token(start_char)
        end_tok = enc.char_to_token(end_char - 1)
        for t in range(start_tok, end_tok + 1):
            mask[t] = 1
    ids, mask = ids[:MAX_LENGTH], mask[:MAX_LENGTH]
    labels = [i if m else -100 for i, m in zip(ids, mask)]
    assert truncated or labels[-1] == -100  # <|im_end|> is not scored
    return {"text": text, "truncated": truncated, "generation_spans": [list(s) for s in generation_indices[0]], "images": images,
            "input_ids": ids, "labels": labels}


def make_batch(folder):
    from PIL import Image
    from transformers import AutoTokenizer, SiglipImageProcessor

    tokenizer = AutoTokenizer.from_pretrained(folder)
    image_processor = SiglipImageProcessor.from_pretrained(folder)
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    pad_id = tokenizer.pad_token_id
    every = json.load(open(os.path.join(DEMO, "mvc", "eval.json"), encoding="utf-8"))
    records = [every[i] for i in RECORD_INDICES]
    rows, row_info, images = [], [], []
    for kind in KINDS:
        for r, rec in enumerate(records):
            seq = interleave_sequence(tokenizer, rec, kind)
            ids, labels = [], []
            for t, l in zip(seq["input_ids"], seq["labels"]):
                if t == image_token:
                    ids += [image_token] * 16
                    labels += [-100] * 16
                else:
                    ids.append(t)
                    labels.append(l)
            rows.append((ids, labels))
            row_info.append({"kind": kind, "record": r, "images": seq["images"], "text": seq["text"],
                             "generation_spans": seq["generation_spans"], "length": len(ids),
                             "truncated": seq["truncated"],
                             "compact_input_ids": seq["input_ids"], "compact_labels": seq["labels"]})
            images += seq["images"]
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.int64)
    labels = torch.full((len(rows), width), -100, dtype=torch.int64)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.int64)
    for i, (ids, lab) in enumerate(rows):
        input_ids[i, :len(ids)] = torch.tensor(ids)
        labels[i, :len(lab)] = torch.tensor(lab)
        attention_mask[i, :len(ids)] = 1
    pil = [Image.open(os.path.join(DEMO, "mvc", p)).convert("RGB") for p in images]
    pixel_values = image_processor(pil, return_tensors="pt")["pixel_values"].to(torch.float32)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels,
            "pixel_values": pixel_values}, row_info, image_token, pad_id


def unbatched_logps(model_dir, batch, image_token):
    model = load(model_dir, attn="eager").eval()
    out, image = [], 0
    with torch.no_grad():
        for i in range(batch["input_ids"].shape[0]):
            n = int(batch["attention_mask"][i].sum())
            ids = batch["input_ids"][i:i + 1, :n]
            count = int((ids == image_token).sum()) // 16
            pv = batch["pixel_values"][image:image + count] if count else None
            image += count
            logits = model(input_ids=ids, pixel_values=pv).logits[0, :-1].to(torch.float64)
            tgt = batch["labels"][i, 1:n]
            m = tgt != -100
            out.append(logits.log_softmax(-1)[m].gather(-1, tgt[m][:, None]).sum())
    return torch.stack(out)


def main():
    common.check_versions()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(SEED)
    from safetensors import safe_open
    from safetensors.torch import save_file

    image_id, pad_id, eos_id = build_model_folder()
    policy, reference = make_policy()
    batch, row_info, image_token, pad = make_batch(POLICY_DIR)
    assert (image_token, pad) == (image_id, pad_id)

    with torch.no_grad():
        reference_logps = common.sequence_logps(reference, batch)
    policy.eval()
    with torch.no_grad():
        eval_loss, eval_metrics = common.svco_loss(common.sequence_logps(policy, batch), reference_logps, "eval")
    for n, p in policy.named_parameters():
        p.requires_grad_(is_trainable(common.published_name(n)))
    policy.train()
    policy_logps = common.sequence_logps(policy, batch)
    train_loss, metrics = common.svco_loss(policy_logps, reference_logps, "train")
    common.RECORDED_PARAMS = RECORDED_PARAMS  # the shared optimiser step records these tensors
    grad_norm, grads, after, n_decay, n_no_decay = common.optimiser_step(policy, train_loss)

    assert torch.allclose(unbatched_logps(POLICY_DIR, batch, image_token), policy_logps.detach(), rtol=0, atol=1e-4)
    assert torch.allclose(unbatched_logps(MODEL_DIR, batch, image_token), reference_logps, rtol=0, atol=1e-4)
    clip = min(1.0, common.MAX_GRAD_NORM / (grad_norm + 1e-6))
    with safe_open(os.path.join(POLICY_DIR, "model.safetensors"), "pt") as f:
        for k in RECORDED_PARAMS:
            p0, g = f.get_tensor(k).double(), grads[k].double() * clip
            wd = common.WEIGHT_DECAY if common.decays(k) else 0.0
            expect = p0 * (1 - common.LR * wd) - common.LR * g / (g.abs() + common.ADAM_EPS)
            assert torch.allclose(expect, after[k].double(), rtol=0, atol=1e-6), k

    save_file({**{k: v.contiguous() for k, v in batch.items()},
               "policy_logps": policy_logps.detach().contiguous(),
               "reference_logps": reference_logps.contiguous()},
              os.path.join(HERE, "reference.safetensors"), metadata={"format": "pt"})
    save_file({k: after[k].contiguous() for k in RECORDED_PARAMS}, os.path.join(HERE, "after_step.safetensors"),
              metadata={"format": "pt"})
    save_file({k: grads[k].contiguous() for k in RECORDED_PARAMS}, os.path.join(HERE, "grads.safetensors"),
              metadata={"format": "pt"})
    out = {
        "comment": "One S-VCO training step on the tiny LLaVA-Interleave model/ (reference) vs policy/ "
                   "(reference + seeded noise); made by make_interleave_reference.py. Log-probs and losses "
                   "in float64 from fp32 logits; SigLIP post_layernorm off (transformers 4.45 behaviour).",
        "loss": train_loss.item(),
        "eval_loss": eval_loss.item(),
        "metrics": metrics,
        "eval_metrics": eval_metrics,
        "grad_norm": grad_norm,
        "betas": common.BETAS,
        "eval_fallback_beta": common.EVAL_FALLBACK_BETA,
        "policy_logps": policy_logps.detach().tolist(),
        "reference_logps": reference_logps.tolist(),
        "rows": row_info,
        "settings": {
            "records": f"demo/mvc/eval.json records {RECORD_INDICES}", "per_device_train_batch_size": len(RECORD_INDICES),
            "row_order": "kind-major: cc of records 0,1, then rc, cr, rr, nc, nr",
            "max_length": MAX_LENGTH, "image_tokens_per_image": 16, "pad_token_id": pad_id,
            "eos_token_id": eos_id, "image_token_id": image_id, "padding_side": "right",
            "final_token_forced": False, "bos": None,
            "policy_noise": {"std": common.NOISE_STD, "seed": SEED, "on": "every projector and language-model tensor"},
            "optimizer": {"type": "torch.optim.AdamW (foreach default)", "lr": common.LR,
                          "betas": list(common.ADAM_BETAS), "eps": common.ADAM_EPS,
                          "weight_decay": common.WEIGHT_DECAY, "decay_tensors": n_decay,
                          "no_decay_tensors": n_no_decay},
            "max_grad_norm": common.MAX_GRAD_NORM, "tied_embeddings": True,
            "siglip_post_layernorm": "off", "dtype": "float32", "attn_implementation": "sdpa",
        },
    }
    with open(os.path.join(HERE, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps({"loss": out["loss"], "eval_loss": out["eval_loss"], "grad_norm": grad_norm,
                      "width": batch["input_ids"].shape[1], "vocab": len(json.load(open(os.path.join(MODEL_DIR, "tokenizer.json")))["model"]["vocab"]),
                      "image": image_id, "pad": pad_id, "eos": eos_id}, indent=1))
    for r in row_info:
        print(r["kind"], r["record"], r["length"], r["truncated"], sum(l != -100 for l in r["compact_labels"]))


if __name__ == "__main__":
    main()
