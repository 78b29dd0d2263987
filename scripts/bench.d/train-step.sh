#!/usr/bin/env bash
# Training: one S-VCO optimiser step (policy fwd+bwd, frozen reference fwd, loss, clip, AdamW), svco vs
# a TRL-style step on HF transformers; the demo-sized model and the ~100M LLaVA-shaped one.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/lib/reference-python.sh
need_reference .stamp "${TORCH_REFERENCE[@]}"
THREADS="${BENCH_THREADS:-$(nproc)}"
STEPS="${BENCH_TRAIN_STEPS:-3}"
echo
echo "== S-VCO optimiser step, 1 record = 6 sequences x 256 tokens, $STEPS steps, $THREADS threads (target >= 1.3x faster, <= 0.8x RSS)"
printf "%-22s %12s %12s %8s %12s %12s %8s\n" model "svco s/step" "HF s/step" speedup "svco RSS" "HF RSS" ratio
for cfg in demo/tiny-llava/config.json bench/models/llava-100m.json; do
  s=$(.build/release/svco-bench train-step "$cfg" 1 256 "$STEPS" "$THREADS")
  r=$(PYTHONPATH="$REF" python3 bench/models/svco_step_reference.py "$cfg" 1 256 "$STEPS" "$THREADS" 2>/dev/null)
  get() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
  awk -v m="$(basename "$(dirname "$cfg")")/$(basename "$cfg")" -v ss="$(get "$s" step_s)" -v rs="$(get "$r" step_s)" \
      -v sm="$(get "$s" peak_rss_mb)" -v rm="$(get "$r" peak_rss_mb)" \
      'BEGIN { printf "%-22s %12.3f %12.3f %7.2fx %9.0f MB %9.0f MB %7.2fx\n", m, ss, rs, rs / ss, sm, rm, sm / rm }'
done
