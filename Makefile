# sharepack: `make run` starts the service on its embedded defaults; `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-dev lint typecheck unit bench bench-latency clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## The API on 127.0.0.1:8000, SQLite under ./.sharepack/, a worker and a local emulator.
run: install
	$(BIN)/sharepack serve --emulator

## Azurite (Azure Storage Queue emulator, from npm) for the Azure queue tests.
node_modules/.bin/azurite-queue:
	@if command -v npm >/dev/null; then npm install --no-save --no-audit --no-fund azurite; \
	else echo "npm not found: the Azure queue tests will skip (and fail under CI)"; fi

## ruff, mypy --strict and the whole pytest suite (PostgreSQL tests skip without a server).
test: install-dev node_modules/.bin/azurite-queue
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install-dev
	$(BIN)/mypy

## The suite without the slow tests, for a quick loop.
unit: install-dev
	$(BIN)/pytest -m "not slow"

## Every figure of the benchmarks from one run, each beside its goal or as a ratio measured
## in the same run: CLI start-up, the calls of a run, apply concurrency, throughput at the
## workspace's rate limit and packs per minute with 1, 2, 4 workers, upload and status
## latency with about 1,000,000 SCD2 rows (PostgreSQL at 127.0.0.1:5432), tracing's cost.
bench: install-dev
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/run_calls.py
	$(BIN)/python bench/apply.py
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/tracing.py

## Upload and status latency alone.
bench-latency: install-dev
	$(BIN)/python bench/latency.py

clean:
	rm -rf $(VENV) .sharepack .mypy_cache .ruff_cache .pytest_cache
