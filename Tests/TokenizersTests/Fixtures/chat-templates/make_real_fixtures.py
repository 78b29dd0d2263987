# Expected renderings of real Hugging Face chat templates (the ~70 llama.cpp keeps in
# models/templates/, fetched by scripts/fetch-assets/templates.sh from the llama-cpp-python==0.3.36
# sdist into .deps/test-assets/chat-templates). The templates themselves are not committed (their
# owners' licences); only their size, FNV-1a 64 hash and HF's output are.
#
# Pinned versions (the /work/fixture-venv interpreter):
#   python 3.11, transformers==4.57.1, jinja2==3.1.6
#
# Run: /work/fixture-venv/bin/python make_real_fixtures.py <repo>/.deps/test-assets/chat-templates
import json
import os
import sys

import jinja2
import transformers
from transformers.utils.chat_template_utils import render_jinja_template

assert transformers.__version__ == "4.57.1", transformers.__version__
assert jinja2.__version__ == "3.1.6", jinja2.__version__

HERE = os.path.dirname(os.path.abspath(__file__))

CONVERSATIONS = [
    ([{"role": "user", "content": "Hello! How are you?"}], True),
    ([{"role": "system", "content": "You are a helpful assistant."},
      {"role": "user", "content": "What is 2+2?"},
      {"role": "assistant", "content": "4"},
      {"role": "user", "content": "And 3+3? — ünï 😀"}], True),
    ([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there."}], False),
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q1"},
      {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"},
      {"role": "assistant", "content": "A2"}], False),
]

# What HF passes from a tokenizer's special_tokens_map, plus a fixed clock: `strftime_now` is
# shadowed by a variable so the output does not depend on today's date (the Swift test passes
# the same function).
VARIABLES = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}


def fixed_strftime_now(fmt):
    return "DATE(" + fmt + ")"


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def main(folder):
    entries = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".jinja"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            raw = f.read()
        source = raw.decode("utf-8")
        cases = []
        for index, (messages, add_generation_prompt) in enumerate(CONVERSATIONS):
            case = {"conversation": index, "add_generation_prompt": add_generation_prompt}
            try:
                rendered, _ = render_jinja_template(
                    conversations=[messages], chat_template=source, add_generation_prompt=add_generation_prompt,
                    strftime_now=fixed_strftime_now, **VARIABLES)
                case["text"] = rendered[0]
            except jinja2.exceptions.TemplateSyntaxError as e:
                case["error"] = "syntax"
                case["message"] = str(e)
            except jinja2.exceptions.TemplateError as e:
                # raise_exception (TemplateError itself) or an undefined/security error.
                case["error"] = "raised" if type(e) is jinja2.exceptions.TemplateError else "render"
                case["message"] = str(e)
            except Exception as e:  # TypeError etc. inside the template
                case["error"] = "render"
                case["message"] = f"{type(e).__name__}: {e}"
            cases.append(case)
        entries.append({"file": name, "bytes": len(raw), "fnv1a64": fnv1a64(raw), "cases": cases})
    out = {"conversations": [{"messages": m, "add_generation_prompt": g} for m, g in CONVERSATIONS],
           "variables": VARIABLES, "templates": entries}
    with open(os.path.join(HERE, "cases", "real-templates.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    errors = sum(1 for e in entries for c in e["cases"] if "error" in c)
    print(f"{len(entries)} templates, {len(entries) * len(CONVERSATIONS)} renderings, {errors} errors")


if __name__ == "__main__":
    main(sys.argv[1])
