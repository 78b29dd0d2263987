#!/usr/bin/env python3
"""Dev-time sanity check: a few dozen S-VCO steps (SVCO-SPEC.md sections 2-4) with HF transformers on
demo/tiny-llava + demo/mvc, printing the four eval reward accuracies before and during training.
Same pinned environment as make_demo_assets.py. Usage: python demo/svco_torch_check.py [lr] [steps] [batch] [beta]
(the earlier demo's settings: 3e-3 30 64 1.0; reports every 10 steps, training accuracies after the step.)
Plain-PyTorch loop (no TRL), policy vs frozen copy as reference, vision tower frozen, AdamW
(betas 0.9/0.95, weight decay 0.02 on matrices only), global-norm clip 1.0, constant lr, all four betas equal."""
import json, os, sys, time, copy
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_demo_assets as M
from PIL import Image
from transformers import AutoProcessor, AutoTokenizer, LlavaForConditionalGeneration
torch.manual_seed(0)
D = os.path.dirname(os.path.abspath(__file__))
tok = AutoTokenizer.from_pretrained(f"{D}/tiny-llava", add_eos_token=True)
proc = AutoProcessor.from_pretrained(f"{D}/tiny-llava")
lr = float(sys.argv[1]) if len(sys.argv) > 1 else 1e-3
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 48
bs = int(sys.argv[3]) if len(sys.argv) > 3 else 4
BETA = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1
def prep(rec):
    out = {}
    for kind in ("cc","rc","cr","rr","nc","nr"):
        s = M.reference_sequence(tok, rec, kind)
        ids = torch.tensor(s["input_ids"]); lab = torch.tensor(s["labels"])
        pv = None
        if s["images"]:
            pv = proc.image_processor(Image.open(os.path.join(D,"mvc",s["images"][0])).convert("RGB"), return_tensors="pt")["pixel_values"]
            # expand <image> into 16 positions (as the processor would)
            pos = (ids == tok.convert_tokens_to_ids("<image>")).nonzero()[0,0].item()
            ids = torch.cat([ids[:pos], ids[pos:pos+1].repeat(16), ids[pos+1:]])
            lab = torch.cat([lab[:pos], torch.full((16,), -100), lab[pos+1:]])
        out[kind] = (ids, lab, pv)
    return out
train = [prep(r) for r in json.load(open(f"{D}/mvc/train.json"))]
evals = [prep(r) for r in json.load(open(f"{D}/mvc/eval.json"))]
policy = LlavaForConditionalGeneration.from_pretrained(f"{D}/tiny-llava")
ref = copy.deepcopy(policy).eval()
for p in ref.parameters(): p.requires_grad_(False)
for p in policy.vision_tower.parameters(): p.requires_grad_(False)
def logp(model, ids, lab, pv):
    logits = model(input_ids=ids[None], pixel_values=pv, labels=None).logits[0]
    lp = torch.log_softmax(logits[:-1].float(), -1); tgt = lab[1:]; m = tgt != -100
    return lp[m].gather(-1, tgt[m][:,None]).sum()
def terms(model, ex):
    return {k: logp(model, *ex[k]) for k in ex}
def rewards(batch):
    out=[]
    for ex in batch:
        pi = terms(policy, ex)
        with torch.no_grad(): rf = terms(ref, ex)
        out.append({k: pi[k]-rf[k] for k in pi})
    return out
def loss_acc(rs, beta=None):
    beta = BETA if beta is None else beta
    L=0; acc=torch.zeros(4)
    for r in rs:
        d = [r["cc"]-r["nc"], r["nc"]-r["rc"], r["rr"]-r["nr"], r["nr"]-r["cr"]]
        L = L + sum(-F.logsigmoid(beta*x) for x in d)
        acc += torch.tensor([float(x>0) for x in d])
    return L/len(rs), acc/len(rs)
def evaluate(records=None):
    policy.eval()
    with torch.no_grad(): l,a = loss_acc(rewards(evals if records is None else records))
    policy.train(); return round(l.item(), 4), a.tolist()
decay = [p for n,p in policy.named_parameters() if p.requires_grad and p.ndim>=2]
nodecay = [p for n,p in policy.named_parameters() if p.requires_grad and p.ndim<2]
opt = torch.optim.AdamW([{"params":decay,"weight_decay":0.02},{"params":nodecay,"weight_decay":0.0}], lr=lr, betas=(0.9,0.95))
print("before", evaluate())
t=time.time(); policy.train()
for step in range(steps):
    batch = [train[(step*bs+i) % len(train)] for i in range(bs)]
    l,a = loss_acc(rewards(batch)); opt.zero_grad(); l.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0); opt.step()
    if (step+1) % 10 == 0: print(step+1, "train", evaluate(train), "eval", evaluate(), f"{time.time()-t:.1f}s", flush=True)
