#!/usr/bin/env bash
# Real tokenizer vocabularies for TokenizersTests (see ../shared/TEST-ASSETS.md).
# Unpacks into $ASSETS/tokenizers/: qwen.tiktoken (dashscope==2.0.2) and llama.cpp's vocab test
# files ggml-vocab-{qwen2,llama-spm}.gguf + .inp/.out (llama-cpp-python==0.3.36 sdist).
# Idempotent: files already present are not fetched again.
set -euo pipefail
: "${ASSETS:?ASSETS must be set (scripts/fetch-test-assets sets it)}"
dest="$ASSETS/tokenizers"
mkdir -p "$dest"
dl="$ASSETS/.downloads"
mkdir -p "$dl"

if [ ! -s "$dest/qwen.tiktoken" ]; then
  python3 -m pip download --no-deps --quiet -d "$dl" "dashscope==2.0.2"
  whl=$(ls "$dl"/dashscope-2.0.2-*.whl | head -n 1)
  python3 - "$whl" "$dest/qwen.tiktoken" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2] + ".tmp", "wb") as out:
    out.write(z.read("dashscope/resources/qwen.tiktoken"))
PY
  mv "$dest/qwen.tiktoken.tmp" "$dest/qwen.tiktoken"
fi

need=0
for v in qwen2 llama-spm; do
  for ext in gguf gguf.inp gguf.out; do
    [ -s "$dest/ggml-vocab-$v.$ext" ] || need=1
  done
done
if [ "$need" = 1 ]; then
  python3 -m pip download --no-deps --quiet -d "$dl" "llama-cpp-python==0.3.36"
  sdist="$dl/llama_cpp_python-0.3.36.tar.gz"
  tmp=$(mktemp -d)
  members=()
  for v in qwen2 llama-spm; do
    for ext in gguf gguf.inp gguf.out; do
      members+=("llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-$v.$ext")
    done
  done
  tar -xzf "$sdist" -C "$tmp" "${members[@]}"
  for m in "${members[@]}"; do
    mv "$tmp/$m" "$dest/"
  done
  rm -rf "$tmp"
fi
