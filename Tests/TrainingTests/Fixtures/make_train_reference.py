#!/usr/bin/env python3
"""Reference numbers for ONE S-VCO training step (SVCO-SPEC.md sections 2-4) on the demo model.

Pinned environment (dev time only; tests never run this):
    Python 3.11.7, torch 2.13.0+cpu, transformers 4.57.1, tokenizers 0.22.2,
    safetensors 0.6.2, pillow 12.0.0   (/work/venv-demo, see demo/make_demo_assets.py)

Run:  /work/venv-demo/bin/python Tests/TrainingTests/Fixtures/make_train_reference.py
Deterministic (fixed seed, one CPU thread, deterministic algorithms, sorted JSON): running it twice
gives byte-identical files.

Written from the spec on top of HF transformers' LlavaForConditionalGeneration (fp32, sdpa); the
sequence builder is demo/make_demo_assets.py's `reference_sequence` (the one expected.json comes from).

Writes, next to this script:
  policy/                   the policy model folder (demo/tiny-llava + seeded noise on LM and projector)
  reference.safetensors     the batch (input_ids, attention_mask, labels, pixel_values) and the
                            per-sequence log-probs of policy and reference
  reference.json            loss, metrics (train and eval mode), grad_norm, optimiser settings
  after_step.safetensors    selected policy parameters after one AdamW step
  grads.safetensors         the same parameters' gradients before clipping (for debugging)
"""

import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEMO = os.path.join(REPO, "demo")
SRC_MODEL = os.path.join(DEMO, "tiny-llava")
POLICY_DIR = os.path.join(HERE, "policy")

PINNED = {"torch": "2.13.0+cpu", "transformers": "4.57.1", "tokenizers": "0.22.2",
          "safetensors": "0.6.2", "PIL": "12.0.0"}

SEED = 20261128
NOISE_STD = 0.02
BATCH_RECORDS = 2            # per_device_train_batch_size: the first 2 records of demo/mvc/eval.json
MAX_LENGTH = 128
KINDS = ("cc", "rc", "cr", "rr", "nc", "nr")
METRIC_SEQ_NAMES = {"cc": "img_chosen_res_chosen", "rc": "img_rejected_res_chosen",
                    "cr": "img_chosen_res_rejected", "rr": "img_rejected_res_rejected",
                    "nc": "no_img_res_chosen", "nr": "no_img_res_rejected"}
# (metric name, winner, loser) in the order of the four betas (SVCOLoss.swift `terms`).
TERMS = [("img_win_vs_no_img", "cc", "nc"), ("no_img_vs_img_lose", "nc", "rc"),
         ("img_lose_vs_no_img", "rr", "nr"), ("no_img_vs_img_win", "nr", "cr")]
BETAS = [0.1, 0.2, 0.0, 0.5]
EVAL_FALLBACK_BETA = 0.1
LR = 1e-3
ADAM_BETAS = (0.9, 0.95)
ADAM_EPS = 1e-8
WEIGHT_DECAY = 0.02
MAX_GRAD_NORM = 1.0
RECORDED_PARAMS = [
    "multi_modal_projector.linear_1.weight",
    "multi_modal_projector.linear_1.bias",
    "language_model.model.layers.0.self_attn.q_proj.weight",
    "language_model.model.layers.1.mlp.down_proj.weight",
    "language_model.model.norm.weight",
    "language_model.model.embed_tokens.weight",
    "language_model.lm_head.weight",
]


def check_versions():
    import PIL
    import safetensors
    import tokenizers
    import transformers
    found = {"torch": torch.__version__, "transformers": transformers.__version__,
             "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__, "PIL": PIL.__version__}
    wrong = {k: (found[k], v) for k, v in PINNED.items() if found[k] != v}
    if wrong:
        sys.exit(f"version mismatch (found, pinned): {wrong}")


def published_name(name):
    """In-memory (transformers >= 4.52) parameter name -> published llava-hf checkpoint name."""
    if name.startswith("model.language_model."):
        return "language_model.model." + name[len("model.language_model."):]
    if name == "lm_head.weight":
        return "language_model.lm_head.weight"
    if name.startswith("model."):
        return name[len("model."):]
    raise ValueError(f"unexpected parameter name {name}")


def is_trainable(pub):
    # Vision tower frozen; projector and the whole language model (embeddings, output layer) train.
    return not pub.startswith("vision_tower.")


def decays(pub):
    # No weight decay on biases and on LayerNorm/RMSNorm weights (every norm module name contains "norm").
    return not (pub.endswith(".bias") or any("norm" in part for part in pub.split(".")))


# --------------------------------------------------------------------------------------------
# 1. Policy folder
# --------------------------------------------------------------------------------------------

def make_policy():
    from safetensors import safe_open
    from safetensors.torch import save_file
    from transformers import LlavaForConditionalGeneration

    reference = LlavaForConditionalGeneration.from_pretrained(SRC_MODEL, dtype=torch.float32,
                                                              attn_implementation="sdpa")
    reference.eval()
    state = {published_name(n): p.detach().clone() for n, p in reference.named_parameters()}
    with safe_open(os.path.join(SRC_MODEL, "model.safetensors"), "pt") as f:
        assert set(f.keys()) == set(state), "demo checkpoint is not in the published layout"
        for k in f.keys():
            assert torch.equal(f.get_tensor(k), state[k]), k

    # Noise drawn in sorted published-name order from one generator, so it does not depend on the
    # module order of any transformers version.
    gen = torch.Generator().manual_seed(SEED)
    for name in sorted(state):
        if is_trainable(name):
            state[name] = state[name] + torch.randn(state[name].shape, generator=gen, dtype=torch.float32) * NOISE_STD

    if os.path.isdir(POLICY_DIR):
        shutil.rmtree(POLICY_DIR)
    os.makedirs(POLICY_DIR)
    for fname in sorted(os.listdir(SRC_MODEL)):
        if fname != "model.safetensors":
            shutil.copyfile(os.path.join(SRC_MODEL, fname), os.path.join(POLICY_DIR, fname))
    save_file({k: state[k].contiguous() for k in sorted(state)}, os.path.join(POLICY_DIR, "model.safetensors"),
              metadata={"format": "pt"})

    policy = LlavaForConditionalGeneration.from_pretrained(POLICY_DIR, dtype=torch.float32,
                                                           attn_implementation="sdpa")
    for n, p in policy.named_parameters():
        assert torch.equal(p.detach(), state[published_name(n)]), f"policy folder does not reload: {n}"
    for n, p in reference.named_parameters():
        p.requires_grad_(False)
    return policy, reference


# --------------------------------------------------------------------------------------------
# 2. The batch
# --------------------------------------------------------------------------------------------

def make_batch(policy_dir):
    from PIL import Image
    from transformers import AutoTokenizer, CLIPImageProcessor

    sys.path.insert(0, DEMO)
    import make_demo_assets as demo  # noqa: E402  (the generator of demo/expected.json)

    tokenizer = AutoTokenizer.from_pretrained(policy_dir, add_eos_token=True)
    image_processor = CLIPImageProcessor.from_pretrained(policy_dir)
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    pad_id = tokenizer.pad_token_id
    assert (image_token, pad_id) == (707, 708)
    records = json.load(open(os.path.join(DEMO, "mvc", "eval.json"), encoding="utf-8"))[:BATCH_RECORDS]

    expected = json.load(open(os.path.join(DEMO, "expected.json"), encoding="utf-8"))
    rows, row_info, images = [], [], []
    for kind in KINDS:  # kind-major: cc of every record, then rc, ...
        for r, rec in enumerate(records):
            seq = demo.reference_sequence(tokenizer, rec, kind, max_len=MAX_LENGTH)
            for e in expected["records"]:
                if e["eval_index"] == r:
                    assert seq["input_ids"] == e["sequences"][kind]["input_ids"], (r, kind)
                    assert seq["labels"] == e["sequences"][kind]["labels"], (r, kind)
            ids, labels = [], []
            for t, l in zip(seq["input_ids"], seq["labels"]):
                if t == image_token:  # expanded only after truncation
                    ids += [image_token] * 16
                    labels += [-100] * 16
                else:
                    ids.append(t)
                    labels.append(l)
            assert ids.count(image_token) == 16 * len(seq["images"])
            rows.append((ids, labels))
            row_info.append({"kind": kind, "record": r, "images": seq["images"], "text": seq["text"],
                             "length": len(ids)})
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
            "pixel_values": pixel_values}, row_info, images


# --------------------------------------------------------------------------------------------
# 3./4. Log-probs and the loss
# --------------------------------------------------------------------------------------------

def sequence_logps(model, batch):
    """SUM over scored positions of log softmax(logits[t-1])[token t], in float64 from the fp32 logits."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                pixel_values=batch["pixel_values"], use_cache=False)
    logits = out.logits
    assert logits.dtype == torch.float32
    logp = logits[:, :-1].to(torch.float64).log_softmax(-1)
    target = batch["labels"][:, 1:]
    mask = target != -100
    picked = logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)


def unbatched_logps(model_dir, batch):
    """Cross-check: each row alone, unpadded, eager attention, its own image only."""
    from transformers import LlavaForConditionalGeneration

    model = LlavaForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32,
                                                          attn_implementation="eager").eval()
    out, image = [], 0
    with torch.no_grad():
        for i in range(batch["input_ids"].shape[0]):
            n = int(batch["attention_mask"][i].sum())
            ids = batch["input_ids"][i:i + 1, :n]
            has_image = bool((ids == 707).any())
            pv = batch["pixel_values"][image:image + 1] if has_image else None
            image += int(has_image)
            logits = model(input_ids=ids, pixel_values=pv).logits[0, :-1].to(torch.float64)
            tgt = batch["labels"][i, 1:n]
            m = tgt != -100
            out.append(logits.log_softmax(-1)[m].gather(-1, tgt[m][:, None]).sum())
    return torch.stack(out)


def svco_loss(policy_logps, reference_logps, mode):
    n = len(policy_logps) // 6
    pi = {k: policy_logps[i * n:(i + 1) * n] for i, k in enumerate(KINDS)}
    ref = {k: reference_logps[i * n:(i + 1) * n] for i, k in enumerate(KINDS)}
    metrics, total = {}, None
    for (name, win, lose), beta in zip(TERMS, BETAS):
        pi_diff = pi[win] - pi[lose]
        margin = pi_diff - (ref[win] - ref[lose])
        on = beta > 0
        used = on or mode == "eval"
        per_row = -F.logsigmoid((beta if on else EVAL_FALLBACK_BETA) * margin)
        if used:
            total = per_row if total is None else total + per_row
        metrics[f"losses/{name}_loss"] = per_row.detach().mean().item() if used else 0.0
        # The S-VCO reference trainer's metric names (trainer.py, get_batch_metrics).
        metrics[f"reward_acc/{name}_reward_accuracies"] = (margin.detach() > 0).to(torch.float64).mean().item()
        metrics[f"reward_margin/{name}_reward_margins"] = margin.detach().mean().item()
        metrics[f"pi_logratios/pi_logratios_{name}_distance"] = pi_diff.detach().abs().mean().item()
    for k in KINDS:
        metrics[f"rewards/rewards_{METRIC_SEQ_NAMES[k]}"] = (pi[k] - ref[k]).detach().mean().item()
        metrics[f"logps/policy_logps_{METRIC_SEQ_NAMES[k]}"] = pi[k].detach().mean().item()
    return total.mean(), metrics


# --------------------------------------------------------------------------------------------
# 5. One optimiser step
# --------------------------------------------------------------------------------------------

def optimiser_step(policy, loss):
    from transformers import Trainer

    trainable = [(n, p) for n, p in policy.named_parameters() if p.requires_grad]
    decay = [p for n, p in trainable if decays(published_name(n))]
    no_decay = [p for n, p in trainable if not decays(published_name(n))]
    # Same split as HF Trainer's own rule.
    hf_decay = set(Trainer.get_decay_parameter_names(None, policy))
    assert {n for n, _ in trainable if decays(published_name(n))} == {n for n, _ in trainable if n in hf_decay}
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=LR, betas=ADAM_BETAS, eps=ADAM_EPS)
    optimizer.zero_grad()
    loss.backward()
    for n, p in policy.named_parameters():
        assert (p.grad is not None) == p.requires_grad, n
    grads = {published_name(n): p.grad.detach().clone() for n, p in trainable
             if published_name(n) in RECORDED_PARAMS}
    grad_norm = torch.nn.utils.clip_grad_norm_([p for _, p in trainable], MAX_GRAD_NORM)
    optimizer.step()
    after = {published_name(n): p.detach().clone() for n, p in policy.named_parameters()
             if published_name(n) in RECORDED_PARAMS}
    return grad_norm.item(), grads, after, len(decay), len(no_decay)


def main():
    check_versions()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(SEED)
    from safetensors.torch import save_file

    policy, reference = make_policy()
    batch, row_info, images = make_batch(POLICY_DIR)

    with torch.no_grad():
        reference_logps = sequence_logps(reference, batch)
    policy.eval()
    with torch.no_grad():
        eval_loss, eval_metrics = svco_loss(sequence_logps(policy, batch), reference_logps, "eval")
    for n, p in policy.named_parameters():  # vision tower frozen before the forward pass
        p.requires_grad_(is_trainable(published_name(n)))
    policy.train()  # HF Trainer's training_step; dropout is 0 everywhere, so logps equal eval mode
    policy_logps = sequence_logps(policy, batch)
    train_loss, metrics = svco_loss(policy_logps, reference_logps, "train")
    before_embed_pad = policy.get_input_embeddings().weight[708].detach().clone()
    grad_norm, grads, after, n_decay, n_no_decay = optimiser_step(policy, train_loss)
    # The pad row has no gradient (padding_idx); it only decays.
    assert torch.count_nonzero(grads["language_model.model.embed_tokens.weight"][708]) == 0
    assert torch.allclose(after["language_model.model.embed_tokens.weight"][708],
                          before_embed_pad * (1 - LR * WEIGHT_DECAY), rtol=0, atol=1e-9)

    # Cross-checks: rows scored one by one agree; the first AdamW step in closed form
    # (m_hat = g, v_hat = g^2 after bias correction) gives the same parameters.
    assert torch.allclose(unbatched_logps(POLICY_DIR, batch), policy_logps.detach(), rtol=0, atol=1e-4)
    assert torch.allclose(unbatched_logps(SRC_MODEL, batch), reference_logps, rtol=0, atol=1e-4)
    from safetensors import safe_open
    clip = min(1.0, MAX_GRAD_NORM / (grad_norm + 1e-6))
    with safe_open(os.path.join(POLICY_DIR, "model.safetensors"), "pt") as f:
        for k in RECORDED_PARAMS:
            p0, g = f.get_tensor(k).double(), grads[k].double() * clip
            wd = WEIGHT_DECAY if decays(k) else 0.0
            expect = p0 * (1 - LR * wd) - LR * g / (g.abs() + ADAM_EPS)
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
        "comment": "One S-VCO training step on demo/tiny-llava (reference) vs policy/ (reference + seeded noise); "
                   "made by make_train_reference.py. Log-probs and losses in float64 from fp32 logits.",
        "loss": train_loss.item(),
        "eval_loss": eval_loss.item(),
        "metrics": metrics,
        "eval_metrics": eval_metrics,
        "grad_norm": grad_norm,
        "betas": BETAS,
        "eval_fallback_beta": EVAL_FALLBACK_BETA,
        "policy_logps": policy_logps.detach().tolist(),
        "reference_logps": reference_logps.tolist(),
        "rows": row_info,
        "settings": {
            "records": f"demo/mvc/eval.json[0:{BATCH_RECORDS}]", "per_device_train_batch_size": BATCH_RECORDS,
            "row_order": "kind-major: cc of records 0,1, then rc, cr, rr, nc, nr",
            "pixel_values_order": "one image per image row, in row order (nc/nr rows have none)",
            "max_length": MAX_LENGTH, "image_tokens_per_image": 16, "pad_token_id": 708,
            "image_token_id": 707, "padding_side": "right",
            "policy_noise": {"std": NOISE_STD, "seed": SEED, "on": "every projector and language-model tensor",
                             "order": "sorted published names, one torch.Generator, torch.randn"},
            "optimizer": {"type": "torch.optim.AdamW (foreach default)", "lr": LR, "betas": list(ADAM_BETAS),
                          "eps": ADAM_EPS, "weight_decay": WEIGHT_DECAY,
                          "no_decay": "biases and LayerNorm/RMSNorm weights",
                          "decay_tensors": n_decay, "no_decay_tensors": n_no_decay},
            "max_grad_norm": MAX_GRAD_NORM, "gradient_accumulation_steps": 1,
            "trainable": "projector + language model (vision tower frozen)",
            "dtype": "float32", "attn_implementation": "sdpa",
        },
    }
    with open(os.path.join(HERE, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps({"loss": out["loss"], "eval_loss": out["eval_loss"], "grad_norm": grad_norm,
                      "width": batch["input_ids"].shape[1]}, indent=1))


if __name__ == "__main__":
    main()
