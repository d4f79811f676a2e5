# crm-workbench: the two commands of the README, each doing its own set-up.
#   make run   - create .venv if missing, install, run every analysis on the bundled data
#   make test  - the same set-up, then lint and the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# datasets run side by side (two cores: two at a time)
JOBS ?= 2
DATASETS ?= params/example.yaml params/cdnow.yaml params/telco.yaml params/hillstrom.yaml

.PHONY: run test install lint bench clean-reports help

help:
	@echo "make run    - set up and run all analyses on the bundled data (reports/)"
	@echo "make test   - set up and run lint + tests"
	@echo "make bench  - benchmark script (prints seconds and peak memory)"

# two install stamps: `make run` installs the package only; `make test` adds the dev extras
# (pytest, ruff, pyspark for the Spark engine tests, playwright for the browser test)
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python >= 3.11 not found on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(DEV_STAMP)

install: $(DEV_STAMP)

run: $(STAMP)
	MPLBACKEND=Agg $(BIN)/workbench run-all --jobs $(JOBS) $(foreach p,$(DATASETS),-p $(p))

test: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python tests/spark_archive.py
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=25

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(DEV_STAMP)
	MPLBACKEND=Agg $(BIN)/python benchmarks/bench_foundation.py

clean-reports:
	rm -rf reports/*/ reports/index.html
