# Reference judge prompts for JudgePromptTests: the official prompt texts, read out of the official
# evaluation scripts (not re-typed), filled for one real question of each benchmark the way each
# script fills them.
#
# Made with Python 3.11 (standard library only; /work/fixture-venv/bin/python: transformers 4.57.1
# et al. are not used). Inputs, passed as arguments:
#   MMVET    yuweihao/MM-Vet @ acde843e02dae30047bb456ee4a8ab28dee7e0ae   mm-vet_evaluator.py
#   MMHAL    llava-rlhf/LLaVA-RLHF @ 830a083fd83e607da3c35f2e6aef833523c1e722   Eval/eval_gpt_mmhal.py
#            (the MMHal-Bench release's eval_gpt4.py)
#   BENCH    /work/shared/benchmarks (mm-vet/mm-vet.json, llava-bench-in-the-wild/*, mmhal-bench/*)
# LLaVA-Bench's rule text comes from BENCH/llava-bench-in-the-wild/llavabench_gpt_review_rule.json
# (identical to haotian-liu/LLaVA @ c121f0432da27facab705978f83c4ada465e46fd llava/eval/table/rule.json);
# the content layout is that of llava/eval/eval_gpt_review_bench.py at the same commit.
#
#   python make_judge_prompts.py MMVET MMHAL BENCH > prompts.json
import ast
import json
import sys


def string_constant(path, name):
    """The value of the module-level `name = "..."` in a script, without running the script."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{path}: no {name}")


mmvet_script, mmhal_script, bench = sys.argv[1:4]
RESPONSE = "x = -1 or 5, {braces} and a <AND> tag"

# MM-Vet, question v1_0 (ground truth "-1<AND>-5").
mmvet = json.load(open(f"{bench}/mm-vet/mm-vet.json"))["v1_0"]
few_shot = string_constant(mmvet_script, "prompt")
row = " | ".join([mmvet["question"], mmvet["answer"].replace("<AND>", " <AND> ").replace("<OR>", " <OR> "), RESPONSE, ""])
out = {
    "response": RESPONSE,
    "mmvet_v1_0_input": {"question": mmvet["question"], "answer": mmvet["answer"]},
    "mmvet_v1_0": few_shot + "\n" + row,
    "mmvet_v1_0_retry": few_shot + "\n" + row + "\nPredict the correctness of the answer (digit): ",
}

# LLaVA-Bench, question 0 (conv) with its caption and GPT-4 answer.
lb = f"{bench}/llava-bench-in-the-wild"
question = json.loads(open(f"{lb}/questions.jsonl").readline())
answer = json.loads(open(f"{lb}/answers_gpt4.jsonl").readline())
context = {c["image"]: c for c in map(json.loads, open(f"{lb}/context.jsonl"))}[question["image"]]
rule = json.load(open(f"{lb}/llavabench_gpt_review_rule.json"))["llava_bench_" + question["category"]]
cap_str = "\n".join(context["caption"])  # a str: one character per line, as the official script does
role = rule["role"]
out["llavabench_0_input"] = {"question": question["text"], "answer": answer["text"], "caption": context["caption"],
                              "category": question["category"], "rule": rule}
out["llavabench_0"] = (
    f"[Context]\n{cap_str}\n\n[Question]\n{question['text']}\n\n"
    f"[{role} 1]\n{answer['text']}\n\n[End of {role} 1]\n\n"
    f"[{role} 2]\n{RESPONSE}\n\n[End of {role} 2]\n\n[System]\n{rule['prompt']}\n\n"
)

# MMHal-Bench, first record of the answer template.
record = json.load(open(f"{bench}/mmhal-bench/mmhal-bench_answer_template.json"))[0]
template = string_constant(mmhal_script, "template")
out["mmhal_input"] = {k: record[k] for k in ("image_id", "image_content", "question", "gt_answer", "question_type")}
out["mmhal"] = template.format(", ".join(record["image_content"]), record["question"], record["gt_answer"], RESPONSE)

json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
print()
