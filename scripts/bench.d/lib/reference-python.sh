# The pinned Python side of `make bench`, installed once into .deps/bench-py; sourced by bench.d/*.sh
# from the repository root. Each set has its own stamp, so a bench run alone installs what it needs.
REF=.deps/bench-py
TORCH_REFERENCE=("torch==2.13.0+cpu" "transformers==4.57.1" "safetensors==0.6.2" "numpy==2.3.4")
PILLOW_REFERENCE=("pillow==12.0.0" "transformers==4.57.1" "numpy==2.3.4")
TOKENIZERS_REFERENCE=("transformers==4.57.1" "tokenizers==0.22.1" "gguf==0.17.1" "tiktoken==0.12.0" "sentencepiece==0.2.1")

# need_reference STAMP PACKAGE...: installs the packages into $REF unless $REF/STAMP exists.
need_reference() {
  local stamp="$REF/$1"; shift
  if [ ! -f "$stamp" ]; then
    echo "installing the Python reference ($*) into $REF"
    python3 -m pip install --quiet --disable-pip-version-check --no-compile --target "$REF" "$@"
    touch "$stamp"
  fi
}
