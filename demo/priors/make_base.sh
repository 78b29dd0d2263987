#!/usr/bin/env bash
# The recipe of demo/priors/base, the demo's base model: instruction tuning (`svco train --loss sft`,
# settings in sft.yaml) of demo/tiny-llava on sft.json, whose answers follow the question's wording
# 95% of the time. About 2–4 minutes on 2 cores (release build). make demo does not run this: the
# result is committed. One thread, so that the same CPU kind gives the same bytes.
set -euo pipefail
cd "$(dirname "$0")/../.."
SVCO=${SVCO:-.build/release/svco}
OUT=.build/priors-sft
rm -rf "$OUT"
"$SVCO" train --config demo/priors/sft.yaml --output-dir "$OUT" --threads 1 | awk '/^step/ && !/^step [0-9]*0\// { next } { print }'
rm -rf demo/priors/base && mkdir -p demo/priors/base
# The model folder as svco saves it (weights, config, tokenizer, template, processor); not the run's logs.
for f in config.json generation_config.json model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json \
         chat_template.json preprocessor_config.json processor_config.json; do
  cp "$OUT/$f" demo/priors/base/
done
cp "$OUT/metrics.jsonl" demo/priors/base-sft-metrics.jsonl
echo "wrote demo/priors/base"
