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

# The suite waits on subprocesses, servers and a browser much of the time: two pytest-xdist
# workers (a file at a time each: module fixtures are built once), each with its own PostgreSQL
# server, temp dirs and CLI zygote. `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= 2
XDIST = $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadfile)

## test: lint, types, then the whole suite (SQLite and a real local PostgreSQL)
test: $(STAMP) system-deps lint
	$(BIN)/pytest $(XDIST)

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
	$(BIN)/pytest $(XDIST) tests/unit tests/integration

## reliability: the full loops that `make test` runs bounded (every corpus case on both stores,
## long outages, the kill loops, the API fuzz's full number of cases), in one process
reliability: $(STAMP) system-deps
	DUBAN_RELIABILITY=full $(BIN)/pytest tests/reliability tests/integration/test_api_fuzz.py

bench: $(STAMP) system-deps
	$(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
