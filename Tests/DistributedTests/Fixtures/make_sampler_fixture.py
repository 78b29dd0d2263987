"""Writes sampler.json: torch.utils.data.DistributedSampler's indices for a few set-ups.

Run with torch 2.13.0+cpu (randperm with a seeded CPU generator is libtorch's own, which svco calls):
    python3 -m venv .deps/fixture-venv-dist && .deps/fixture-venv-dist/bin/pip install torch==2.13.0+cpu
    .deps/fixture-venv-dist/bin/python Tests/DistributedTests/Fixtures/make_sampler_fixture.py
"""
import json
import os

import torch
from torch.utils.data import DistributedSampler

cases = []
for count, world, shuffle, seed, epoch, drop_last in [
    (10, 3, True, 42, 0, False),
    (10, 3, True, 42, 1, False),
    (10, 3, True, 42, 0, True),
    (7, 4, True, 0, 3, False),
    (2, 5, True, 7, 0, False),
    (25, 2, True, 123, 5, False),
    (1000, 8, True, 42, 2, True),
]:
    ranks = []
    for rank in range(world):
        sampler = DistributedSampler(range(count), num_replicas=world, rank=rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
        sampler.set_epoch(epoch)
        ranks.append(list(iter(sampler)))
    cases.append(dict(count=count, world=world, shuffle=shuffle, seed=seed, epoch=epoch, drop_last=drop_last, ranks=ranks))

path = os.path.join(os.path.dirname(__file__), "sampler.json")
with open(path, "w") as f:
    json.dump(dict(torch=torch.__version__, cases=cases), f, separators=(",", ":"))
    f.write("\n")
