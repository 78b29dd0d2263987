#!/usr/bin/env bash
# MVC-shaped training: one S-VCO optimiser step per record (batch 1, max length 128, fp32, CPU) on a random
# LLaVA-1.5-shaped model (bench/mvc/llava15-mvc-100m.json: CLIP 336/14 -> 576 image tokens, Llama 8x768,
# vocab 32064; ~110M parameters) and real collated demo records (shared prompt, short answers, the two
# no-image rows). svco with each scoring lever switched on in turn vs the S-VCO reference trainer's data
# flow on HF transformers (bench/mvc/mvc_step_reference.py). One process per configuration (peak RSS
# is that configuration's own). Whole-process cost per record; with --precompute the reference pass
# before training is counted, for 1 epoch and amortised over 3.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/lib/reference-python.sh
need_reference .stamp "${TORCH_REFERENCE[@]}"
THREADS="${BENCH_THREADS:-2}"
RECORDS="${BENCH_MVC_RECORDS:-3}"
DIR=.build/bench/mvc-llava
mkdir -p "$DIR"
cp bench/mvc/llava15-mvc-100m.json "$DIR/config.json"
for f in tokenizer.json tokenizer_config.json special_tokens_map.json; do cp demo/tiny-llava/$f "$DIR/"; done
# The demo's CLIP processor at LLaVA-1.5's 336 px.
python3 - "$DIR" <<'PY'
import json, sys
p = json.load(open("demo/tiny-llava/preprocessor_config.json"))
p["size"] = {"shortest_edge": 336}
p["crop_size"] = {"height": 336, "width": 336}
json.dump(p, open(sys.argv[1] + "/preprocessor_config.json", "w"), indent=1)
PY
DATA=demo/mvc/train.json
BIN=.build/release/svco-bench
$BIN mvc-train "$DIR" "$DATA" "$RECORDS" "$THREADS" --write-batch "$DIR/batch.safetensors" > /dev/null

echo
echo "== MVC-shaped S-VCO training, ~110M LLaVA-1.5 shape, 576 image tokens, batch 1, $RECORDS records (+1 warm-up), $THREADS threads"
get() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
ref=$(PYTHONPATH="$REF" python3 bench/mvc/mvc_step_reference.py "$DIR/config.json" "$DIR/batch.safetensors" "$RECORDS" "$THREADS" 2>/dev/null)
rs=$(get "$ref" step_s_per_record); rm=$(get "$ref" peak_rss_mb); rp=$(get "$ref" policy_positions_per_record)
printf "%-44s %9s %9s %8s %9s %7s %11s %8s\n" configuration "s/record" "records/s" speedup "peak RSS" "RSS" "LM positions" encodes
printf "%-44s %9.2f %9.3f %7.2fx %6.0f MB %6.2fx %11.0f %8d\n" "reference trainer (HF transformers)" "$rs" "$(awk -v s="$rs" 'BEGIN{print 1/s}')" 1 "$rm" 1 "$rp" 8
run() {
  local name="$1"; shift
  local out; out=$($BIN mvc-train "$DIR" "$DATA" "$RECORDS" "$THREADS" "$@")
  local st pre pm pp enc
  st=$(get "$out" step_s_per_record); pre=$(get "$out" precompute_s_per_record); pm=$(get "$out" peak_rss_mb)
  pp=$(get "$out" policy_positions_per_record); enc=$(get "$out" image_encodes_per_record)
  awk -v n="$name" -v st="$st" -v pre="${pre:-0}" -v pm="$pm" -v rs="$rs" -v rm="$rm" -v pp="$pp" -v enc="$enc" 'BEGIN {
    t = st + pre
    printf "%-44s %9.2f %9.3f %7.2fx %6.0f MB %6.2fx %11.0f %8.0f\n", n, t, 1 / t, rs / t, pm, pm / rm, pp, enc
    if (pre > 0) { t3 = st + pre / 3; printf "%-44s %9.2f %9.3f %7.2fx %9s %7s\n", "  same, precompute amortised over 3 epochs", t3, 1 / t3, rs / t3, "", "" } }'
}
KEEP=--keep-elementwise-activations
run "svco, unpacked (all rows one width)" --unpacked $KEEP
run "svco packed, no lever on" --no-prefix-sharing --no-separate-text-rows --no-encode-once $KEEP
run "  + no-image rows in their own forward" --no-prefix-sharing --no-encode-once $KEEP
run "  + shared prefixes" --no-encode-once $KEEP
run "  + one encode per image" $KEEP
run "  + norms/SwiGLU recomputed (all levers)"
run "  + --precompute-ref-log-probs (1 epoch)" --precompute
echo "(LM positions: token positions per record through each model's decoder, padding included; the"
echo " reference trainer and the unpacked/no-lever runs put them through policy and reference alike."
echo " encodes: vision-tower passes per record. Shared machine: read times as a guide, RSS is steady.)"
