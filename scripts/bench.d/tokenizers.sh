#!/usr/bin/env bash
# Tokenizers: MB/s encoding ~4 MB of text with the Qwen2 and Llama-2 vocabularies, svco vs the
# Python `tokenizers` library (one thread, same text, same tokenizer.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/lib/reference-python.sh
OUT=.deps/bench/tok
scripts/fetch-test-assets >/dev/null
need_reference .tokenizers-stamp "${TOKENIZERS_REFERENCE[@]}"
if [ ! -f "$OUT/text.txt" ]; then
  (cd bench/tokenizers && PYTHONPATH="$PWD/../../$REF:$PWD/../../Tests/TokenizersTests/Fixtures" \
    python3 prepare.py ../../.deps/test-assets/tokenizers "../../$OUT" >/dev/null)
fi
echo
echo "== Tokenizers: encode ${OUT}/text.txt, 1 thread (target >= 1.0x)"
for vocab in qwen2 llama; do
  s=$(.build/release/svco-bench tokenizer "$OUT/text.txt" "$OUT/$vocab" | awk '$1 == "mb_per_s" { print $2 }')
  r=$(PYTHONPATH="$REF" python3 bench/tokenizers/reference.py "$OUT/text.txt" "$OUT/$vocab" | awk '{ print $1 }')
  awk -v v="$vocab" -v s="$s" -v r="$r" 'BEGIN { printf "%-8s svco %7.2f MB/s   tokenizers %7.2f MB/s   %6.2fx\n", v, s, r, s / r }'
done
