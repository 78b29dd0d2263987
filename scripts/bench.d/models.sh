#!/usr/bin/env bash
# Models: forward + per-sequence log-probs + backward of a ~100M-parameter LLaVA-shaped random model
# (bench/models/llava-100m.json), svco vs HF transformers, same machine, batch and thread count.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/lib/reference-python.sh
need_reference .stamp "${TORCH_REFERENCE[@]}"
THREADS="${BENCH_THREADS:-$(nproc)}"
BATCH=2; LEN=256; STEPS="${BENCH_MODEL_STEPS:-3}"
echo
echo "== LLaVA ~100M forward+backward, batch $BATCH x $LEN tokens, $STEPS steps, $THREADS threads"
swift_out=$(.build/release/svco-bench model bench/models/llava-100m.json $BATCH $LEN "$STEPS" "$THREADS")
ref_out=$(PYTHONPATH="$REF" python3 bench/models/reference.py bench/models/llava-100m.json $BATCH $LEN "$STEPS" "$THREADS")
get() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
awk -v st="$(get "$swift_out" tokens_per_s)" -v rt="$(get "$ref_out" tokens_per_s)" \
    -v sm="$(get "$swift_out" peak_rss_mb)" -v rm="$(get "$ref_out" peak_rss_mb)" 'BEGIN {
  printf "%-14s %12s %12s %8s\n", "", "svco", "transformers", "ratio"
  printf "%-14s %12.1f %12.1f %7.2fx  (target >= 1.0x)\n", "tokens/s", st, rt, st / rt
  printf "%-14s %9.0f MB %9.0f MB %7.2fx\n", "peak RSS", sm, rm, sm / rm }'
