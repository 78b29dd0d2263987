"""What the transformers peers share (scripts/gpu-check.d/peer_step.py on the GPU machine,
bench/mvc/mvc_step_reference.py in `make bench`): the S-VCO reference trainer's rows right-padded to
one width, a row's log-prob of its answer tokens from the full logits (TRL's get_batch_logps), the
S-VCO loss of SVCO-SPEC section 3, and HF Trainer's two AdamW parameter groups."""
import torch
import torch.nn.functional as F

# The six sequences in SVCO-SPEC section 2's order.
KINDS = ("cc", "rc", "cr", "rr", "nc", "nr")


def padded(rows, pad):
    """(ids, labels) pairs right-padded: ids with `pad`, labels with -100; and the attention mask."""
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (a, b) in enumerate(rows):
        ids[i, :len(a)], labels[i, :len(b)], mask[i, :len(a)] = a, b, 1
    return ids, labels, mask


def answer_logps(logits, labels):
    """Per row, the summed log-probs of the labelled tokens, each predicted from the position before."""
    logits = logits[:, :-1].float()
    target = labels[:, 1:]
    picked = torch.gather(logits.log_softmax(-1), 2, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * (target != -100)).sum(-1)


def svco_loss(pi, ref, beta=0.1):
    """S-VCO's four sigmoid terms over the six log-probs (KINDS order) of policy and reference."""
    cc, rc, cr, rr, nc, nr = range(6)
    loss = 0
    for w, l in ((cc, nc), (nc, rc), (rr, nr), (nr, cr)):
        loss = loss - F.logsigmoid(beta * ((pi[w] - pi[l]) - (ref[w] - ref[l])))
    return loss


def adamw_groups(named_parameters, weight_decay):
    """HF Trainer's groups: weight decay for the trained matrices, none for biases and norms."""
    trained = [(n, p) for n, p in named_parameters if p.requires_grad]
    no_decay = [p for n, p in trained if n.endswith("bias") or "norm" in n]
    decay = [p for n, p in trained if not (n.endswith("bias") or "norm" in n)]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
