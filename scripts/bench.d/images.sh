#!/usr/bin/env bash
# Images: decode + CLIP-336 / SigLIP-384 preprocessing, svco vs Pillow + the HF processor, one thread,
# images per CPU-second (robust to a busy machine), run back to back.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/bench.d/lib/reference-python.sh
scripts/fetch-test-assets >/dev/null
need_reference .pillow-stamp "${PILLOW_REFERENCE[@]}"
mapfile -t files < <(grep -v '^#' bench/images/files.txt | sed '/^$/d; s|^|.deps/test-assets/images/|')
echo
echo "== Images: decode + preprocess, ${#files[@]} real images, 1 thread (target >= 1.5x)"
for proc in llava15 interleave; do
  dir=Tests/ImagesTests/Fixtures/$proc
  PYTHONPATH="$REF" python3 bench/images/reference.py --processor-dir "$dir" --json ".build/bench/ref-$proc.json" "${files[@]}" >/dev/null
  .build/release/svco-bench images "$dir" ".build/bench/ref-$proc.json" "${files[@]}"
done
