# duban — the two set-up commands are `make run` and `make test`; both build what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CONFIG ?= examples/duban.toml

.PHONY: run test test-version lint typecheck unit bench deps system-deps clean reliability

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

deps: $(STAMP)

system-deps:
	@scripts/ensure-system-deps.sh

## run: the main job on the embedded default (SQLite, sample data, console robots)
run: $(STAMP)
	@scripts/run.sh $(CONFIG)

## test: lint, types, then the whole suite (SQLite and a real local PostgreSQL)
test: $(STAMP) system-deps lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest tests/unit

## test-version: lint, types and the in-process part of the suite (tests/unit, tests/integration):
## what `.ci/run` runs on a second Python version (see the comment there)
test-version: $(STAMP) system-deps lint
	$(BIN)/pytest tests/unit tests/integration

## reliability: the reliability suite's full loops (every corpus case on both stores, long outages)
reliability: $(STAMP) system-deps
	DUBAN_RELIABILITY=full $(BIN)/pytest tests/reliability

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
