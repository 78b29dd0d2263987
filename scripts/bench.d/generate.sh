#!/usr/bin/env bash
# Generation: greedy decoding with the KV cache, svco's LlavaModel.generate vs HF transformers'
# generate, on the bundled tiny LLaVA and the ~100M LLaVA-shaped model (bench/models/llava-100m.json,
# random weights written once by the reference into .deps/bench/generate so both sides load the same
# file). A batch of BATCH prompts with one image each, NEW new tokens per row (EOS off on both sides),
# same threads. "same" = generated ids equal to the reference's, up to each row's first difference.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/lib/reference-python.sh
need_reference .stamp "${TORCH_REFERENCE[@]}"
THREADS="${BENCH_THREADS:-$(nproc)}"
BATCH="${BENCH_GEN_BATCH:-4}"; NEW="${BENCH_GEN_TOKENS:-64}"; REPEATS="${BENCH_GEN_REPEATS:-2}"
WORK=.deps/bench/generate
echo
echo "== generation, batch $BATCH x 1 image, $NEW new tokens, greedy + KV cache, $REPEATS runs, $THREADS threads (target >= 1.0x)"
# tok/s: whole generate calls (prefill included); decode: the steps after the first token alone.
printf "%-12s %11s %11s %7s %13s %13s %7s %12s\n" model "svco tok/s" "HF tok/s" ratio "svco decode" "HF decode" ratio "same tokens"
get() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
for model in demo/tiny-llava bench/models/llava-100m.json; do
  name=$(basename "$model" .json)
  folder="$model"; [ "${model%.json}" != "$model" ] && folder="$WORK/$name"
  # The reference runs first: it writes the random weights and the inputs both sides use.
  r=$(PYTHONPATH="$REF" python3 bench/generate/reference.py "$model" "$WORK" "$BATCH" "$NEW" "$THREADS" "$REPEATS" 2>/dev/null)
  s=$(.build/release/svco-bench generate "$folder" "$WORK/$name-inputs.safetensors" "$NEW" "$THREADS" "$REPEATS" \
      "$WORK/$name-reference-tokens.json")
  awk -v m="$name" -v st="$(get "$s" tokens_per_s)" -v rt="$(get "$r" tokens_per_s)" \
      -v sd="$(get "$s" decode_tokens_per_s)" -v rd="$(get "$r" decode_tokens_per_s)" \
      -v same="$(get "$s" same_prefix_tokens)" -v total="$((BATCH * NEW))" \
      'BEGIN { printf "%-12s %11.1f %11.1f %6.2fx %13.1f %13.1f %6.2fx %8d/%d\n", m, st, rt, st / rt, sd, rd, sd / rd, same, total }'
done
