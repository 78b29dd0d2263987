#!/usr/bin/env bash
# Real Hugging Face chat templates for Tests/TokenizersTests/ChatTemplates/RealTemplateTests.swift:
# llama.cpp keeps ~70 of them (Llama 3.x, Qwen 2.5/3, Mistral, Gemma, DeepSeek, Phi, Granite, …)
# in models/templates/, which the llama-cpp-python sdist vendors. Idempotent.
set -euo pipefail
: "${ASSETS:?set ASSETS (scripts/fetch-test-assets does)}"
dest="$ASSETS/chat-templates"
[ -f "$dest/.complete" ] && exit 0
downloads="$dest/.downloads"
mkdir -p "$downloads"
sdist="$downloads/llama_cpp_python-0.3.36.tar.gz"
if [ ! -f "$sdist" ]; then
  python3 -m pip download --no-deps -d "$downloads" "llama-cpp-python==0.3.36"
fi
tar -xzf "$sdist" -C "$dest" --strip-components=5 --wildcards \
  'llama_cpp_python-0.3.36/vendor/llama.cpp/models/templates/*.jinja'
# Only the templates are needed; drop the 77 MB archive.
rm -rf "$downloads"
touch "$dest/.complete"
