#!/usr/bin/env python3
# Generates the TokenizersTests fixtures. Dev time only; tests never run Python.
# Pinned: transformers 4.57.1, tokenizers 0.22.1, tiktoken 0.12.0, gguf 0.17.1 (/work/fixture-venv).
# Usage: make_fixtures.py <assets dir with qwen.tiktoken and ggml-vocab-*.gguf>
#   (scripts/fetch-assets/tokenizers.sh puts them in .deps/test-assets/tokenizers)
# Writes, next to this script:
#   tiny/<name>/            small synthetic tokenizers saved by transformers (tokenizer.json,
#                           tokenizer_config.json, special_tokens_map.json) for the four layouts
#   tiny-expected.json      ids/offsets/decodes of those tokenizers for a list of strings
#   real-strings.json       >= 2000 test strings
#   real-expected.json      ids (all) + offsets (first 700) of the Qwen2 and Llama-2 vocabularies
import base64
import json
import os
import random
import sys
import unicodedata

import gguf
import numpy as np
import tiktoken
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers.integrations.ggml import convert_gguf_tokenizer
from transformers import AutoTokenizer, LlamaTokenizerFast, PreTrainedTokenizerFast, Qwen2TokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
QWEN_PAT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

# ---------------------------------------------------------------- test strings
def make_strings(n_random):
    rng = random.Random(20261127)
    words = ("the quick brown fox jumps over lazy dog tokenizer model image vision language "
             "assistant user system hello world naïve café résumé Straße Ärger über ñandú").split()
    pieces = {
        "cjk": "我们的模型可以理解图像和文本。日本語のテキストとカタカナ、ひらがな。한국어 문장도 있습니다。",
        "emoji": ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇺🇸", "🇯🇵", "❤️", "🤖", "✨", "🧑🏿‍🚀", "☕"],
        "scripts": ["مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Привет, мир", "Γειά σου Κόσμε",
                    "Ελληνικά", "ქართული", "Հայերեն", "ᚠᚢᚦ", "ⅫⅣ", "½ ¾ ²³", "٣٤٥", "१२३", "①②"],
        "ws": [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\u00a0", "\u3000", "\u2003", "\t\t ",
               " \t\n", "\u2028", "\x0b", "\x0c", "\u0085"],
        "punct": [".", ",", "!", "?", "...", "--", "'s", "'S", "'ll", "'LL", "'re", "'ve", "'m", "'d", "'t", "\"",
                  "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\", "#", "@", "$", "%", "^", "&", "*", "_", "~",
                  "`", "|", ";", ":", "«", "»", "—", "…", "¿", "¡", "€", "©"],
        "code": ["def f(x):\n    return x**2\n", "for (int i = 0; i < n; ++i) { a[i] += 1; }",
                 "let x: [Int] = [1, 2, 3]", "<div class=\"a\">&nbsp;</div>", "SELECT * FROM t WHERE id=42;",
                 "    indented\n\tline", "x = {'a': 1, \"b\": [2, 3]}", "#include <stdio.h>\n",
                 "fn main() -> Result<(), Box<dyn Error>> {}", "if a != b && c >= d || !e:"],
        "special": ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<s>", "</s>", "<unk>", "<image>", "<pad>"],
    }

    def number():
        k = rng.randrange(6)
        if k == 0: return str(rng.randrange(10))
        if k == 1: return str(rng.randrange(10 ** rng.randrange(1, 12)))
        if k == 2: return f"{rng.random() * 1000:.{rng.randrange(1, 5)}f}"
        if k == 3: return f"{rng.randrange(1, 10**7):,}"
        if k == 4: return "-" + str(rng.randrange(1000)) + "e" + str(rng.randrange(-9, 9))
        return "0x" + format(rng.randrange(1 << 32), "x")

    def rand_scalar():
        # Long-assigned blocks only: Unicode-version differences between Oniguruma and Swift
        # would otherwise test the tables, not the tokenizer.
        block = rng.choice([(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x5FF),
                            (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE5B), (0x1100, 0x11FF), (0x2000, 0x206F),
                            (0x20A0, 0x20BF), (0x2190, 0x21FF), (0x2500, 0x257F), (0x3040, 0x30FF),
                            (0x4E00, 0x9FA5), (0xAC00, 0xD7A3), (0xFF01, 0xFF5E), (0x1F600, 0x1F64F),
                            (0x300, 0x36F)])
        while True:
            c = chr(rng.randint(*block))
            if unicodedata.category(c) not in ("Cn", "Cs", "Co"):
                return c

    def fragment():
        k = rng.randrange(9)
        if k == 0: return rng.choice(words)
        if k == 1: return number()
        if k == 2:
            s = pieces["cjk"]; i = rng.randrange(len(s)); return s[i:i + rng.randrange(1, 12)]
        if k == 3: return rng.choice(pieces["emoji"])
        if k == 4: return rng.choice(pieces["scripts"])
        if k == 5: return rng.choice(pieces["ws"]) * rng.randrange(1, 4)
        if k == 6: return rng.choice(pieces["punct"])
        if k == 7: return "".join(rand_scalar() for _ in range(rng.randrange(1, 6)))
        return rng.choice(pieces["code"])

    out = []
    # Hand-picked edge cases first.
    out += ["", " ", "  ", "\n", "Hello world", " Hello world", "Hello  world", "Hello world ", "hello\n\nworld",
            "I'm sure it's you'll they've we're he'd don't", "I'M SURE IT'S YOU'LL", "1234567890", "3.14159",
            "a\u0301 e\u0301 n\u0303 (decomposed)", "\u00e1 \u00e9 \u00f1 (composed)", "ǅ ǈ ǋ", "ﬁ ﬂ ﬃ",
            "\u212b \u2126 \u1e9b\u0323", "x" * 300, "ab" * 200, " " * 40 + "x", "\n" * 10, "\t" * 7 + "end",
            "🤖" * 20, "中" * 50, "<|im_start|>user\nWhat is in the image?<|im_end|>\n<|im_start|>assistant\n",
            "USER: <image>\nDescribe the image. ASSISTANT:", "<s>[INST] hi [/INST]</s>", "<unk> and <pad>",
            "a<image>b", " <image> ", "\u200b\u200d\ufeff", "\x00\x01\x1f\x7f", "😀😃😄😁", "👨‍👩‍👧‍👦👨‍👩‍👧‍👦"]
    for group in pieces.values():
        out += group if isinstance(group, list) else [group]
    while len(out) < n_random:
        n = rng.randrange(1, 14)
        sep = rng.choice(["", " ", " ", " ", "\n", ""])
        out.append(sep.join(fragment() for _ in range(n)))
    return out


# ---------------------------------------------------------------- tiny tokenizers
CORPUS = [
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs!",
    "Tokenizers split text into pieces: words, numbers like 12345 and 3.14, and punctuation.",
    "def encode(text):\n    return [vocab[t] for t in text.split()]\n",
    "Café, naïve, résumé — accents matter. Straße über Ärger.",
    "USER: <image>\nWhat is shown? ASSISTANT: A cat on a mat.",
    "It's, I'm, you'll, we've, they're, he'd: contractions everywhere.",
    "数字和中文 mixed with English words and emoji 😀.",
    "    indentation\tand\ttabs\n\nnew paragraphs  double  spaces",
] * 20


def tiny_llama_tokenizer(metaspace):
    trainer_tok = Tokenizer(models.BPE(unk_token="<unk>"))
    trainer_tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=400, show_progress=False, special_tokens=[], limit_alphabet=60)
    trainer_tok.train_from_iterator(CORPUS, trainer)
    spec = json.loads(trainer_tok.to_str())["model"]
    learned = sorted(spec["vocab"].items(), key=lambda kv: kv[1])
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [t for t, _ in learned if t not in tokens]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in spec["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if metaspace:
        tok.normalizer = None
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
        tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False),
                                         decoders.ByteFallback(), decoders.Fuse()])
    else:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.pre_tokenizer = None
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in ["<unk>", "<s>", "</s>"]])
    tok.add_tokens([
        AddedToken("<image>", normalized=False, special=True),
        AddedToken("<pad>", normalized=False, special=True),
        AddedToken("[LS]", lstrip=True, rstrip=True, normalized=False, special=False),
        AddedToken("xyzzy", single_word=True, normalized=True, special=False),
    ])
    return LlamaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                              pad_token="<pad>", add_bos_token=True, add_eos_token=False, legacy=not metaspace)


def tiny_bytelevel_tokenizer(kind):
    tok = Tokenizer(models.BPE())
    if kind == "qwen2":
        tok.normalizer = normalizers.NFC()
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN_PAT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=700, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    tok.decoder = decoders.ByteLevel()
    if kind == "qwen2":
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        tok.add_special_tokens([AddedToken(t, normalized=False, special=True)
                                for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
        tok.add_tokens([AddedToken("<image>", normalized=False, special=True),
                        AddedToken("caf\u00e9!", normalized=True, special=False),
                        AddedToken("<sep>", lstrip=True, normalized=False, special=False)])
        return Qwen2TokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  unk_token=None, bos_token=None)
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.add_special_tokens([AddedToken("<|endoftext|>", normalized=False, special=True)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>")


TINY_EXTRA = ["a [LS] b", "  [LS]x", "x[LS]   ", "xyzzy plugh xyzzy", "axyzzy xyzzyb", "<s>hi</s>",
              "<image>\nWhat is this?", "café! cafe\u0301! x<sep>y  <sep>", "<|im_start|>user\nhi<|im_end|>\n",
              "unknownglyphs: ☃ ☄ ⚡ 𝔘𝔫𝔦", "ab<pad><pad>", "The fox's tokenizer", " leading", "trailing "]


def expectations(tok, strings, extra_kwargs=None):
    out = []
    for s in strings:
        with_sp = tok(s, add_special_tokens=True, return_offsets_mapping=True)
        without = tok(s, add_special_tokens=False)
        out.append({
            "ids": with_sp["input_ids"],
            "offsets": [list(o) for o in with_sp["offset_mapping"]],
            "ids_plain": without["input_ids"],
            "decoded": tok.decode(with_sp["input_ids"], skip_special_tokens=False),
            "decoded_skip": tok.decode(with_sp["input_ids"], skip_special_tokens=True),
        })
    return out


def make_tiny(strings):
    result = {"strings": strings, "tokenizers": {}}
    builders = {
        "llama": lambda: tiny_llama_tokenizer(metaspace=False),
        "llama-metaspace": lambda: tiny_llama_tokenizer(metaspace=True),
        "qwen2": lambda: tiny_bytelevel_tokenizer("qwen2"),
        "gpt2": lambda: tiny_bytelevel_tokenizer("gpt2"),
    }
    for name, build in builders.items():
        d = os.path.join(HERE, "tiny", name)
        os.makedirs(d, exist_ok=True)
        build().save_pretrained(d)
        for slow in ("vocab.json", "merges.txt"):  # slow-tokenizer files, not read by svco
            if os.path.exists(os.path.join(d, slow)):
                os.remove(os.path.join(d, slow))
        tok = AutoTokenizer.from_pretrained(d)
        entry = {
            "len": len(tok),
            "bos_id": tok.bos_token_id, "eos_id": tok.eos_token_id, "pad_id": tok.pad_token_id,
            "unk_id": tok.unk_token_id,
            "cases": expectations(tok, strings),
        }
        if name.startswith("llama"):
            tok_eos = AutoTokenizer.from_pretrained(d, add_eos_token=True)
            entry["ids_add_eos"] = [tok_eos(s)["input_ids"] for s in strings]
        result["tokenizers"][name] = entry
        print(name, "len", len(tok), type(tok).__name__)
    return result


# ---------------------------------------------------------------- real vocabularies
def gguf_strings(reader, key):
    f = reader.fields[key]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]


def gguf_numbers(reader, key):
    f = reader.fields[key]
    return [f.parts[i].tolist()[0] for i in f.data]


def llama_from_gguf(path):
    # transformers' GGUFLlamaConverter, with set lookups so it finishes in seconds.
    r = gguf.GGUFReader(path)
    tokens = gguf_strings(r, "tokenizer.ggml.tokens")
    scores = gguf_numbers(r, "tokenizer.ggml.scores")
    types = gguf_numbers(r, "tokenizer.ggml.token_type")
    score_of = {t: scores[i] for i, t in enumerate(tokens)}
    merges = []
    for merge, piece_score in score_of.items():
        local = []
        for index in range(1, len(merge)):
            l, rr = merge[:index], merge[index:]
            if l in score_of and rr in score_of:
                local.append((l, rr, piece_score))
        local = sorted(local, key=lambda x: (score_of[x[0]], score_of[x[1]]), reverse=True)
        merges.extend(local)
    merges = sorted(merges, key=lambda v: v[2], reverse=True)
    merges = [(a, b) for a, b, _ in merges]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab, merges, unk_token=tokens[0], fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    tok.add_special_tokens([AddedToken(tokens[i], normalized=False, special=True)
                            for i in range(len(tokens)) if types[i] in (2, 3)])
    return tok


def encode_all(encode, strings):
    ids, offsets, decoded = [], [], {}
    for i, s in enumerate(strings):
        ids_i, offs_i, dec = encode(s)
        ids.append(ids_i)
        # Offsets for the first 700 strings only, to keep the fixture small.
        if i < 700:
            offsets.append([x for o in offs_i for x in o])
        if dec != s:
            decoded[str(i)] = dec
    return {"ids": ids, "offsets": offsets, "decoded_if_not_input": decoded}


def make_real(assets, strings):
    # transformers' own GGUF → fast tokenizer conversion (what from_pretrained(gguf_file=…) runs;
    # calling it directly avoids needing torch).
    r = gguf.GGUFReader(os.path.join(assets, "ggml-vocab-qwen2.gguf"))
    qwen_dict = {"tokenizer_type": "gpt2", "tokens": gguf_strings(r, "tokenizer.ggml.tokens"),
                 "merges": gguf_strings(r, "tokenizer.ggml.merges"),
                 "token_type": gguf_numbers(r, "tokenizer.ggml.token_type"),
                 "eos_token_id": 151643, "bos_token_id": 151643, "padding_token_id": 151643}
    backend, _ = convert_gguf_tokenizer("qwen2", qwen_dict)
    qwen = Qwen2TokenizerFast(tokenizer_object=backend, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                              bos_token=None, unk_token=None)
    print("qwen2 via transformers:", type(qwen).__name__, len(qwen))

    def qwen_encode(s):
        e = qwen(s, add_special_tokens=False, return_offsets_mapping=True)
        return e["input_ids"], e["offset_mapping"], qwen.decode(e["input_ids"])

    llama = llama_from_gguf(os.path.join(assets, "ggml-vocab-llama-spm.gguf"))

    def llama_encode(s):
        e = llama.encode(s, add_special_tokens=False)
        return e.ids, e.offsets, llama.decode(e.ids)

    result = {"qwen2": encode_all(qwen_encode, strings), "llama": encode_all(llama_encode, strings)}

    # Cross-check: tiktoken on qwen.tiktoken must agree with HF on the NFC text.
    with open(os.path.join(assets, "qwen.tiktoken"), "rb") as f:
        ranks = {base64.b64decode(t): int(r) for t, r in (line.split() for line in f if line.strip())}
    enc = tiktoken.Encoding("qwen", pat_str=QWEN_PAT, mergeable_ranks=ranks,
                            special_tokens={"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645})
    agree = sum(enc.encode(unicodedata.normalize("NFC", s), allowed_special="all") == ids
                for s, ids in zip(strings, result["qwen2"]["ids"]))
    print(f"tiktoken agrees with HF Qwen2 on {agree}/{len(strings)} strings")
    return result


def main():
    assets = sys.argv[1]
    strings = make_strings(2100)
    with open(os.path.join(HERE, "real-strings.json"), "w", encoding="utf-8") as f:
        json.dump(strings, f, ensure_ascii=False, indent=0)
    real = make_real(assets, strings)
    with open(os.path.join(HERE, "real-expected.json"), "w", encoding="utf-8") as f:
        json.dump(real, f, ensure_ascii=False, separators=(",", ":"))
    tiny_strings = strings[:40] + strings[-50:] + TINY_EXTRA
    tiny = make_tiny(tiny_strings)
    with open(os.path.join(HERE, "tiny-expected.json"), "w", encoding="utf-8") as f:
        json.dump(tiny, f, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
