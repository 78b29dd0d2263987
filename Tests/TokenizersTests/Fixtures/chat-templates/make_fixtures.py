# Generates the chat-template fixtures used by Tests/TokenizersTests/ChatTemplates.
#
# Pinned versions (the /work/fixture-venv interpreter):
#   python 3.11, transformers==4.57.1, tokenizers==0.22.1, jinja2==3.1.6
#
# Run from anywhere:  /work/fixture-venv/bin/python make_fixtures.py
#
# For every template in templates/ it renders >= 20 conversations with HF's
# `apply_chat_template(tokenize=False)` and records the text; the `{% generation %}` character
# spans come from transformers' own jinja rendering helper (`render_jinja_template` with
# return_assistant_tokens_mask=True). For templates with generation blocks it also tokenises
# with three tiny byte-level BPE tokenizers built here with the `tokenizers` library and records
# ids, offsets and HF's assistant masks:
#   bytelevel          ByteLevel post-processor, trim_offsets=False (offsets cover leading spaces)
#   bytelevel-trim     trim_offsets=True (spaces fall between tokens: exercises HF's "break" path)
#   bytelevel-bos-eos  adds <s> ... </s> like the S-VCO LLaVA-1.5 tokenizer (add_eos_token=True);
#                      its mask comes from a literal copy of HF's loop, checked against HF's own
#                      masks on the first tokenizer.
# "processor_mask" is what transformers 4.57's *processor* apply_chat_template computes instead
# (bisect over token starts; a literal copy of that loop, since building a LLaVA processor needs an
# image processor); null where HF would raise IndexError.
import json
import os
import re
import sys

import jinja2
import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast
from transformers.utils.chat_template_utils import render_jinja_template

assert transformers.__version__ == "4.57.1", transformers.__version__
assert tokenizers.__version__ == "0.22.1", tokenizers.__version__
assert jinja2.__version__ == "3.1.6", jinja2.__version__

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")
CASES = os.path.join(HERE, "cases")
SPECIAL = ["<s>", "</s>", "<unk>", "<pad>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]

CORPUS = [
    "USER: What is shown in this image? ASSISTANT: A cat sitting on the left of a red box.",
    "The dog is to the right of the car. There are two people standing near the table.",
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful,"
    " detailed, and polite answers to the user's questions.",
    "system\nYou are a helpful assistant.\nuser\nDescribe the picture.\nassistant\nIt shows a bridge.",
    "[INST] Hello, how are you? [/INST] I am fine, thank you! <<SYS>>\nBe brief.\n<</SYS>>",
    "Ünïcödé — 漢字 😀 café naïve résumé «quotes» ‘single’ “double”",
    '{"name": "get_weather", "arguments": {"city": "Paris"}} <tool_call> </tool_response>',
] * 3


def build_tokenizer(post_processor):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = post_processor
    return tok


def hf_tokenizer(tok):
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )


def hf_mask_loop(encoding_out, generation_indices, n_ids):
    """A literal copy of the assistant-mask loop of transformers 4.57 apply_chat_template."""
    current_mask = [0] * n_ids
    for assistant_start_char, assistant_end_char in generation_indices:
        start_token = encoding_out.char_to_token(0, assistant_start_char)
        end_token = encoding_out.char_to_token(0, assistant_end_char - 1)
        if start_token is None:
            break
        for token_id in range(start_token, end_token + 1 if end_token else n_ids):
            current_mask[token_id] = 1
    return current_mask


def hf_processor_mask_loop(offsets, generation_indices, n_ids):
    """A literal copy of the assistant-mask loop of transformers 4.57 ProcessorMixin.apply_chat_template
    (bisect over token start offsets). Returns None where HF would raise IndexError."""
    import bisect

    current_mask = [0] * n_ids
    offset_starts = [start for start, end in offsets]
    for assistant_start_char, assistant_end_char in generation_indices:
        start_pos = bisect.bisect_left(offset_starts, assistant_start_char)
        end_pos = bisect.bisect_left(offset_starts, assistant_end_char)
        try:
            inside = start_pos >= 0 and offsets[start_pos][0] <= assistant_start_char < offsets[start_pos][1]
        except IndexError:
            return None
        if not inside:
            continue
        for token_id in range(start_pos, end_pos if end_pos else n_ids):
            current_mask[token_id] = 1
    return current_mask


# --- conversations -------------------------------------------------------------------------


def msg(role, *parts):
    return {"role": role, "content": list(parts)}


def text(t):
    return {"type": "text", "text": t}


IMAGE = {"type": "image"}
VIDEO = {"type": "video"}
UNICODE = "Ünïcödé — 漢字 😀 café"


def multimodal_conversations():
    c = []
    q, a = "What is shown in this image?", "A cat on the left of a red box."
    c.append(([msg("user", text(q))], True, None))
    c.append(([msg("user", IMAGE, text(q))], True, None))
    c.append(([msg("user", text(q), IMAGE), msg("assistant", text(a))], False, None))
    c.append(([msg("system", text("You are a careful assistant.")), msg("user", text(q), IMAGE),
               msg("assistant", text(a))], False, None))
    c.append(([msg("system", text("Be brief.")), msg("user", IMAGE, text(q)), msg("assistant", text(a)),
               msg("user", IMAGE, text("And now?")), msg("assistant", text("Two dogs."))], False, None))
    c.append(([msg("user", IMAGE, IMAGE, text("Compare the two images."))], True, None))
    c.append(([msg("user", IMAGE, VIDEO, IMAGE, text("Three media.")), msg("assistant", text("Okay."))], False, None))
    c.append(([msg("user", text("")), msg("assistant", text(""))], False, None))
    c.append(([msg("user", text(UNICODE), IMAGE), msg("assistant", text(UNICODE + " réponse"))], False, None))
    c.append(([msg("user", text("line1\nline2  ")), msg("assistant", text("  spaced\n\nanswer  "))], False, None))
    c.append(([msg("assistant", text("Only the assistant speaks."))], False, None))
    c.append(([msg("system", text("System only."))], True, None))
    c.append(([msg("user", IMAGE)], True, None))
    c.append(([msg("user", text(q)), msg("assistant", text(a))], True, None))
    c.append(([msg("user", text("Part one."), text("Part two."), IMAGE)], True, None))
    c.append(([msg("user", text(q)), msg("assistant", text("First part."), text("Second part."))], False, None))
    c.append(([msg("user", text("long " * 40)), msg("assistant", text("word " * 30))], False, None))
    c.append(([msg("user", text("<image> and <|im_end|> typed as text")), msg("assistant", text("</s> <s>"))],
              False, None))
    c.append(([{"role": "user", "content": [text(q)], "extra": 1}, msg("assistant", text(a))], False, None))
    c.append(([msg("user", text("Hi")), msg("assistant", text("Hello")), msg("user", text("Bye")),
               msg("assistant", text("See you")), msg("user", text("Wait"))], True, None))
    # The six S-VCO sequences of one record: [system], user = instruction + image(s), assistant = response.
    for system in ["", "Answer about the image."]:
        for images in [1, 0]:
            for response in ["The ball is left of the cup.", "The ball is right of the cup."]:
                conv = []
                if system:
                    conv.append(msg("system", text(system)))
                conv.append(msg("user", text("Where is the ball?"), *([IMAGE] * images)))
                conv.append(msg("assistant", text(response)))
                c.append((conv, False, None))
    return c


def plain(role, content):
    return {"role": role, "content": content}


def text_conversations():
    c = []
    c.append(([plain("user", "Hello!")], True, None))
    c.append(([plain("system", "You are terse."), plain("user", "Hello!")], True, None))
    c.append(([plain("user", "Hello!"), plain("assistant", "Hi there.")], False, None))
    c.append(([plain("system", "Sys."), plain("user", "Q1"), plain("assistant", "A1"), plain("user", "Q2")],
              True, None))
    c.append(([plain("user", "Q1"), plain("assistant", "A1"), plain("user", "Q2"), plain("assistant", "A2"),
               plain("user", "Q3"), plain("assistant", "A3")], False, None))
    c.append(([plain("user", UNICODE), plain("assistant", "漢字で答えます 😀")], False, None))
    c.append(([plain("user", ""), plain("assistant", "")], False, None))
    c.append(([plain("user", "   padded   "), plain("assistant", "\n\tanswer\t\n")], True, None))
    c.append(([plain("user", "line1\nline2\n"), plain("assistant", "a\nb")], False, None))
    c.append(([plain("user", "{{ not a tag }} {% raw %} \\n \"quotes\" 'single'"), plain("assistant", "ok")],
              False, None))
    c.append(([plain("assistant", "I speak first.")], False, None))
    c.append(([plain("user", "one"), plain("user", "two")], True, None))
    c.append(([plain("system", "Only a system message.")], True, None))
    c.append(([plain("user", "weather?"), plain("tool", "sunny")], True, None))
    c.append(([plain("system", "  Spaces around system.  "), plain("user", "Hi"), plain("assistant", "Yo")],
              False, None))
    c.append(([plain("user", "Q"), plain("assistant", "A")], True, None))
    c.append(([plain("system", "S"), plain("user", "Q"), plain("assistant", "A"), plain("user", "Q2"),
               plain("assistant", "A2")], False, None))
    c.append(([plain("user", "x" * 200)], True, None))
    c.append(([plain("user", "Say <|im_end|> literally"), plain("assistant", "<|im_end|>")], False, None))
    c.append(([{"role": "user", "content": "extra keys", "name": "bob", "id": 7}, plain("assistant", "noted")],
              False, None))
    c.append(([plain("user", "tab\there"), plain("assistant", "back\\slash")], True, None))
    c.append(([plain("system", ""), plain("user", "empty system")], True, None))
    return c


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather in a city — «quoted» 😀",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def tool_conversations():
    c = text_conversations()
    calls = [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]
    c.append(([plain("user", "Weather in Paris?")], True, [WEATHER_TOOL]))
    c.append(([plain("system", "Use tools."), plain("user", "Weather in Paris?")], True, [WEATHER_TOOL]))
    c.append(([plain("user", "Weather?"), {"role": "assistant", "content": "", "tool_calls": calls},
               plain("tool", "{\"temp\": 21}"), plain("tool", "second result"),
               plain("assistant", "It is 21 degrees.")], False, [WEATHER_TOOL]))
    c.append(([plain("user", "Weather?"), {"role": "assistant", "content": "Let me check.",
               "tool_calls": [{"name": "lookup", "arguments": {"q": "ünï", "n": [1, 2.5, None, True]}}]},
               plain("tool", "done")], True, None))
    return c


TEMPLATE_CONVERSATIONS = {
    "llava-1.5.jinja": multimodal_conversations,
    "llava-interleave.jinja": multimodal_conversations,
    "svco-llava-1.5-train.jinja": multimodal_conversations,
    "svco-llava-interleave-train.jinja": multimodal_conversations,
    "llama-2.jinja": text_conversations,
    "mistral-v0.1.jinja": text_conversations,
    "mistral-system.jinja": text_conversations,
    "vicuna.jinja": text_conversations,
    "qwen2.jinja": text_conversations,
    "qwen2.5-tools.jinja": tool_conversations,
    "features.jinja": text_conversations,
    "generation-first.jinja": text_conversations,
}


def main():
    os.makedirs(CASES, exist_ok=True)
    byte_level = processors.ByteLevel(trim_offsets=False)
    variants = {
        "bytelevel": build_tokenizer(byte_level),
        "bytelevel-trim": build_tokenizer(processors.ByteLevel(trim_offsets=True)),
        "bytelevel-bos-eos": build_tokenizer(processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 1)]),
        ])),
    }
    for name, tok in variants.items():
        with open(os.path.join(HERE, f"tokenizer-{name}.json"), "w", encoding="utf-8") as f:
            f.write(tok.to_str())
    hf = {name: hf_tokenizer(tok) for name, tok in variants.items()}
    base = hf["bytelevel"]
    variables = dict(base.special_tokens_map)

    total = 0
    for template_name, make in sorted(TEMPLATE_CONVERSATIONS.items()):
        with open(os.path.join(TEMPLATES, template_name), encoding="utf-8") as f:
            template = f.read()
        # The same test HF applies before warning that a template has no generation block.
        has_generation = re.search(r"\{\%-?\s*generation\s*-?\%\}", template) is not None
        cases = []
        for messages, add_generation_prompt, tools in make():
            case = {"messages": messages, "add_generation_prompt": add_generation_prompt}
            if tools is not None:
                case["tools"] = tools
            try:
                text_out = base.apply_chat_template(
                    messages, chat_template=template, tokenize=False,
                    add_generation_prompt=add_generation_prompt, tools=tools)
            except jinja2.exceptions.TemplateError as e:
                case["error"] = str(e)
                cases.append(case)
                continue
            rendered, indices = render_jinja_template(
                conversations=[messages], tools=tools, chat_template=template,
                return_assistant_tokens_mask=True, add_generation_prompt=add_generation_prompt, **variables)
            assert rendered[0] == text_out
            case["text"] = text_out
            case["spans"] = [list(s) for s in indices[0]]
            if has_generation:
                tokenized = {}
                for vname, tok in hf.items():
                    # features.jinja renders long texts; one tokenizer keeps the fixture small.
                    if template_name == "features.jinja" and vname != "bytelevel":
                        continue
                    enc = tok(text_out, add_special_tokens=(vname == "bytelevel-bos-eos"),
                              return_offsets_mapping=True)
                    ids = enc["input_ids"]
                    mask = hf_mask_loop(enc, indices[0], len(ids))
                    if vname != "bytelevel-bos-eos":
                        out = tok.apply_chat_template(
                            messages, chat_template=template, tokenize=True, return_dict=True,
                            return_assistant_tokens_mask=True, add_generation_prompt=add_generation_prompt,
                            tools=tools)
                        assert out["input_ids"] == ids, (template_name, vname)
                        assert out["assistant_masks"] == mask, (template_name, vname, out["assistant_masks"], mask)
                    offsets = [list(o) for o in enc["offset_mapping"]]
                    tokenized[vname] = {
                        "ids": ids,
                        "offsets": offsets,
                        "mask": mask,
                        "processor_mask": hf_processor_mask_loop(offsets, indices[0], len(ids)),
                    }
                case["tokenized"] = tokenized
            cases.append(case)
        assert len(cases) >= 20, template_name
        out_path = os.path.join(CASES, template_name.replace(".jinja", ".json"))
        with open(out_path, "w", encoding="utf-8") as f:
            json.dump({"template": template_name, "variables": variables, "cases": cases}, f,
                      ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        total += len(cases)
        print(f"{template_name}: {len(cases)} cases, "
              f"{sum('error' in c for c in cases)} errors, {sum(len(c.get('spans', [])) for c in cases)} spans")
    print("total", total, file=sys.stderr)


if __name__ == "__main__":
    main()
