#!/usr/bin/env python3
"""Reference numbers for S-VCO training steps with HF Trainer's --fp16 (no DeepSpeed): float32
master weights, forward passes under torch.autocast(float16), torch.amp.GradScaler with its defaults.

Pinned environment (dev time only; tests never run this):
    Python 3.11.7, torch 2.13.0+cpu, transformers 4.57.1, tokenizers 0.22.2,
    safetensors 0.6.2, pillow 12.0.0   (/work/venv-demo)

Run:  /work/venv-demo/bin/python Tests/TrainingTests/Fixtures/make_fp16_reference.py
(after make_train_reference.py, whose policy/ folder, batch and fp32 step it reuses). Deterministic:
running it twice gives byte-identical files.

The step is the fp32 step of make_train_reference.py with accelerate's fp16 mechanics, as HF
Trainer runs them on one device:
  * the policy's and the reference's forward passes run under torch.autocast("cpu", float16) and
    their logits come back as float32 (accelerate's convert_outputs_to_fp32); log-probs and the loss
    are computed outside autocast, the log-probs in float64 as in the fp32 reference;
  * scaler.scale(loss).backward(); scaler.unscale_(optimizer); clip_grad_norm_ (its value, of the
    unscaled gradients, is grad_norm); scaler.step(optimizer); scaler.update().

Also the same step as HF Trainer's --bf16 runs it (autocast to bfloat16, float32 weights, no scaler).

Writes, next to this script:
  bf16_reference.json        the --bf16 step's loss, log-probs, grad_norm and spread against fp32
  fp16_reference.json        loss, log-probs, grad_norm, the scale before/after, found_inf, and the
                             measured spread of this fp16 step against the fp32 step (the tolerances
                             the Swift test uses are derived from these)
  fp16_step.safetensors      grad.<name>: the unscaled gradients (before clipping) and after.<name>: the
                             parameters after the step, for make_train_reference.RECORDED_PARAMS
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_train_reference as fp32  # noqa: E402


def autocast_logps(model, batch, dtype=torch.float16):
    """As fp32.sequence_logps, with the forward under autocast to `dtype` and float32 logits out."""
    with torch.autocast("cpu", dtype=dtype):
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                    pixel_values=batch["pixel_values"], use_cache=False)
    logits = out.logits.float()
    logp = logits[:, :-1].to(torch.float64).log_softmax(-1)
    target = batch["labels"][:, 1:]
    mask = target != -100
    picked = logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)


INIT_SCALE = 2.0 ** 17


def main():
    fp32.check_versions()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(fp32.SEED)
    from safetensors import safe_open
    from safetensors.torch import save_file
    from transformers import LlavaForConditionalGeneration

    policy = LlavaForConditionalGeneration.from_pretrained(fp32.POLICY_DIR, dtype=torch.float32, attn_implementation="sdpa")
    reference = LlavaForConditionalGeneration.from_pretrained(fp32.SRC_MODEL, dtype=torch.float32, attn_implementation="sdpa")
    reference.eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    with safe_open(os.path.join(HERE, "reference.safetensors"), "pt") as f:
        batch = {k: f.get_tensor(k) for k in ("input_ids", "attention_mask", "labels", "pixel_values")}
        fp32_policy_logps = f.get_tensor("policy_logps")
    with safe_open(os.path.join(HERE, "grads.safetensors"), "pt") as f:
        fp32_grads = {k: f.get_tensor(k) for k in f.keys()}
    with safe_open(os.path.join(HERE, "after_step.safetensors"), "pt") as f:
        fp32_after = {k: f.get_tensor(k) for k in f.keys()}
    fp32_ref = json.load(open(os.path.join(HERE, "reference.json"), encoding="utf-8"))

    for n, p in policy.named_parameters():
        p.requires_grad_(fp32.is_trainable(fp32.published_name(n)))
    policy.train()

    trainable = [(n, p) for n, p in policy.named_parameters() if p.requires_grad]
    decay = [p for n, p in trainable if fp32.decays(fp32.published_name(n))]
    no_decay = [p for n, p in trainable if not fp32.decays(fp32.published_name(n))]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": fp32.WEIGHT_DECAY},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=fp32.LR, betas=fp32.ADAM_BETAS, eps=fp32.ADAM_EPS)
    # GradScaler's defaults except the initial scale: 2^17 instead of 2^16 (accelerate's GradScalerKwargs
    # init_scale). This batch's scaled float16 backward overflows at 2^17 but not at 2^16 (the demo
    # model's gradients sit just under the float16 limit there), and the test needs one overflow so that
    # the skip path (weights untouched, scale halved, schedule held) is checked against torch.
    scaler = torch.amp.GradScaler("cpu", init_scale=INIT_SCALE)
    assert (scaler.get_scale(), scaler.get_growth_factor(), scaler.get_backoff_factor(), scaler.get_growth_interval()) \
        == (131072.0, 2.0, 0.5, 2000)
    # Steps on the same batch (the Swift test trains on these 2 records, one micro-batch per step) until
    # one is taken: at the initial scale 2^17 the scaled float16 backward overflows and the step is skipped.
    history = []
    for attempt in range(8):
        optimizer.zero_grad()
        with torch.no_grad():
            reference_logps = autocast_logps(reference, batch)
        policy_logps = autocast_logps(policy, batch)
        loss, metrics = fp32.svco_loss(policy_logps, reference_logps, "train")
        scale_before = scaler.get_scale()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        found_inf = sum(v.item() for v in scaler._per_optimizer_states[id(optimizer)]["found_inf_per_device"].values())
        grads = {fp32.published_name(n): p.grad.detach().clone() for n, p in trainable
                 if fp32.published_name(n) in fp32.RECORDED_PARAMS}
        grad_norm = torch.nn.utils.clip_grad_norm_([p for _, p in trainable], fp32.MAX_GRAD_NORM).item()
        scaler.step(optimizer)
        scaler.update()
        history.append({"loss": loss.item(), "scale_before": scale_before, "found_inf": found_inf,
                        "grad_norm": grad_norm if found_inf == 0 else None, "scale_after": scaler.get_scale()})
        if found_inf == 0:
            break
    assert found_inf == 0, history
    after = {fp32.published_name(n): p.detach().clone() for n, p in policy.named_parameters()
             if fp32.published_name(n) in fp32.RECORDED_PARAMS}

    # How far torch's own fp16 step lies from its fp32 step: the tolerances of the Swift test.
    def rel(a, b):
        a, b = a.double(), b.double()
        return ((a - b).abs().max() / b.abs().max().clamp(min=1e-12)).item()
    spread = {
        "policy_logps_max_abs": (policy_logps.detach() - fp32_policy_logps).abs().max().item(),
        "loss_abs": abs(loss.item() - fp32_ref["loss"]),
        "grad_norm_rel": abs(grad_norm - fp32_ref["grad_norm"]) / fp32_ref["grad_norm"],
        "grads_rel_to_max": {k: rel(grads[k], fp32_grads[k]) for k in fp32.RECORDED_PARAMS},
        # After one Adam step an element moves by about ±lr·sign(g): where fp16 flips the sign of a
        # tiny gradient the element lands 2·lr away. Fraction of such elements per tensor:
        "after_fraction_over_1e-6": {k: ((after[k] - fp32_after[k]).abs() > 1e-6).double().mean().item()
                                     for k in fp32.RECORDED_PARAMS},
        "after_max_abs": {k: (after[k] - fp32_after[k]).abs().max().item() for k in fp32.RECORDED_PARAMS},
    }

    tensors = {}
    for k in fp32.RECORDED_PARAMS:
        tensors["grad." + k] = grads[k].contiguous()
        tensors["after." + k] = after[k].contiguous()
    save_file(tensors, os.path.join(HERE, "fp16_step.safetensors"), metadata={"format": "pt"})
    out = {
        "comment": "One S-VCO step as HF Trainer --fp16 runs it (autocast float16 forward, GradScaler defaults) on "
                   "policy/ vs demo/tiny-llava, the batch of reference.safetensors; made by make_fp16_reference.py.",
        "loss": loss.item(),
        "metrics": metrics,
        "policy_logps": policy_logps.detach().tolist(),
        "reference_logps": reference_logps.tolist(),
        "grad_norm": grad_norm,
        "steps": history,
        "growth_tracker_after": int(scaler._growth_tracker.item()),
        "spread_vs_fp32": spread,
        "settings": {"autocast": "torch.autocast('cpu', dtype=torch.float16) around each model forward; logits .float()",
                     "scaler": "torch.amp.GradScaler('cpu', init_scale=131072); defaults otherwise: growth 2, backoff 0.5, interval 2000",
                     "optimizer": "as reference.json", "threads": 1},
    }
    with open(os.path.join(HERE, "fp16_reference.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps({"steps": history, "spread": spread}, indent=1))
    bf16_step(fp32_ref, fp32_policy_logps, batch)


def bf16_step(fp32_ref, fp32_policy_logps, batch):
    """HF Trainer's --bf16: the same step with autocast to bfloat16 and no loss scaling."""
    from transformers import LlavaForConditionalGeneration

    policy = LlavaForConditionalGeneration.from_pretrained(fp32.POLICY_DIR, dtype=torch.float32, attn_implementation="sdpa")
    reference = LlavaForConditionalGeneration.from_pretrained(fp32.SRC_MODEL, dtype=torch.float32, attn_implementation="sdpa")
    reference.eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    for n, p in policy.named_parameters():
        p.requires_grad_(fp32.is_trainable(fp32.published_name(n)))
    policy.train()
    with torch.no_grad():
        reference_logps = autocast_logps(reference, batch, torch.bfloat16)
    policy_logps = autocast_logps(policy, batch, torch.bfloat16)
    loss, _ = fp32.svco_loss(policy_logps, reference_logps, "train")
    loss.backward()
    trainable = [p for p in policy.parameters() if p.requires_grad]
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in trainable)
    grad_norm = torch.nn.utils.clip_grad_norm_(trainable, fp32.MAX_GRAD_NORM).item()
    out = {
        "comment": "HF Trainer --bf16 (autocast bfloat16, float32 weights, no loss scaling): one step's numbers on the "
                   "batch of reference.safetensors; made by make_fp16_reference.py.",
        "loss": loss.item(),
        "grad_norm": grad_norm,
        "policy_logps": policy_logps.detach().tolist(),
        "reference_logps": reference_logps.tolist(),
        "spread_vs_fp32": {"policy_logps_max_abs": (policy_logps.detach() - fp32_policy_logps).abs().max().item(),
                           "loss_abs": abs(loss.item() - fp32_ref["loss"]),
                           "grad_norm_rel": abs(grad_norm - fp32_ref["grad_norm"]) / fp32_ref["grad_norm"]},
    }
    with open(os.path.join(HERE, "bf16_reference.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(out["spread_vs_fp32"], indent=1))


if __name__ == "__main__":
    main()
