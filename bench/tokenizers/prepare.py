#!/usr/bin/env python3
# Prepares the tokenizer benchmark inputs (dev time).
# Pinned: transformers 4.57.1, tokenizers 0.22.1, gguf 0.17.1 (/work/fixture-venv).
# Usage: prepare.py <assets dir (.deps/test-assets/tokenizers)> <out dir>
# Writes <out>/qwen2/ and <out>/llama/ (tokenizer.json + tokenizer_config.json built from the
# fetched GGUF vocabularies exactly as the test fixtures build them) and <out>/text.txt: about
# 4 MB of English prose and code (the Python sources and docstrings of the transformers package)
# followed by the multilingual test strings, so both sides encode the very same bytes.
import json
import os
import sys

import transformers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../Tests/TokenizersTests/Fixtures"))
import make_fixtures as mf  # noqa: E402
from transformers import LlamaTokenizerFast, Qwen2TokenizerFast  # noqa: E402
from transformers.integrations.ggml import convert_gguf_tokenizer  # noqa: E402


def main():
    assets, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    r = mf.gguf.GGUFReader(os.path.join(assets, "ggml-vocab-qwen2.gguf"))
    qwen_dict = {"tokenizer_type": "gpt2", "tokens": mf.gguf_strings(r, "tokenizer.ggml.tokens"),
                 "merges": mf.gguf_strings(r, "tokenizer.ggml.merges"),
                 "token_type": mf.gguf_numbers(r, "tokenizer.ggml.token_type")}
    backend, _ = convert_gguf_tokenizer("qwen2", qwen_dict)
    Qwen2TokenizerFast(tokenizer_object=backend, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                       bos_token=None, unk_token=None).save_pretrained(os.path.join(out, "qwen2"))
    llama = mf.llama_from_gguf(os.path.join(assets, "ggml-vocab-llama-spm.gguf"))
    LlamaTokenizerFast(tokenizer_object=llama, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                       add_bos_token=True, add_eos_token=False).save_pretrained(os.path.join(out, "llama"))
    parts, size = [], 0
    root = os.path.dirname(transformers.__file__)
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".py") and size < 4_000_000:
                with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as f:
                    t = f.read()
                parts.append(t)
                size += len(t.encode())
    with open(os.path.join(mf.HERE, "real-strings.json"), encoding="utf-8") as f:
        parts.append("\n\n".join(json.load(f)))
    with open(os.path.join(out, "text.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(parts))


if __name__ == "__main__":
    main()
