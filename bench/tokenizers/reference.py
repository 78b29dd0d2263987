#!/usr/bin/env python3
# Python `tokenizers` throughput on the same text and tokenizer as `svco-bench` (TokenizerBench).
# Pinned: tokenizers 0.22.1 (/work/fixture-venv). Single thread: RAYON_NUM_THREADS=1 and
# TOKENIZERS_PARALLELISM=false are set before the library loads.
# Usage: reference.py <text file> <tokenizer dir> [repeats]
# The text is split into documents at blank lines ("\n\n"), as TokenizerBench does; each document
# is encoded with special tokens and offsets (the Encoding always carries offsets). Prints MB/s of
# UTF-8 input, best of the repeats.
import os
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402


def main():
    text_file, tok_dir = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    with open(text_file, encoding="utf-8", newline="") as f:  # bytes as they are, like the Swift side
        docs = f.read().split("\n\n")
    tok = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
    total_bytes = sum(len(d.encode()) for d in docs)
    best = float("inf")
    n_tokens = 0
    for _ in range(repeats):
        start = time.perf_counter()
        n_tokens = 0
        for d in docs:
            n_tokens += len(tok.encode(d).ids)
        best = min(best, time.perf_counter() - start)
    print(f"{total_bytes / best / 1e6:.2f} MB/s ({total_bytes} bytes, {len(docs)} documents, {n_tokens} tokens, "
          f"best of {repeats}: {best:.3f} s)")


if __name__ == "__main__":
    main()
