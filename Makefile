# Two commands matter: `make run` and `make test`. Both build their own virtual environment.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint typecheck pytest install install-dev clean bench bench-edge bench-jobs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@ $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

run: install
	$(BIN)/taskyard serve --host 127.0.0.1 --port 8000

lint: install-dev
	$(BIN)/ruff check src tests bench deploy/local-cluster
	$(BIN)/ruff format --check src tests bench deploy/local-cluster

typecheck: install-dev
	$(BIN)/mypy
	$(BIN)/mypy --strict deploy/local-cluster

pytest: install-dev
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache taskyard.db taskyard.db-*

bench-edge: install-dev
	$(BIN)/python bench/edge_cost.py

bench: install-dev
	$(BIN)/python bench/run.py

bench-jobs: install-dev
	$(BIN)/python bench/jobs.py
