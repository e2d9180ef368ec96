# Two commands matter: `make run` and `make test`. Both build their own virtual environment.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed

WEB := frontend
WEB_DIST := src/taskyard/web/dist
WEB_DEPS_STAMP := $(WEB)/node_modules/.package-lock.json
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
	$(WEB)/index.html $(WEB)/package.json $(WEB)/vite.config.ts $(WEB)/tsconfig.json
HAVE_NPM := $(shell command -v npm 2>/dev/null)

.PHONY: check docs compose-test image run test lint typecheck pytest install install-dev clean bench bench-edge bench-jobs bench-profile bench-faults bench-peak bench-servers bench-soak bench-split bench-limiter bench-live bench-commits \
	web web-check web-api-types

$(BIN)/python:
	@echo "==> creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@echo "==> installing Taskyard and its dependencies (about a minute the first time)"
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@echo "==> installing Taskyard with its test and benchmark tools (a minute or two the first time)"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@ $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

# Readable logs while developing; `taskyard serve` itself logs JSON unless told otherwise.
run: install web
	@echo "==> serving on http://127.0.0.1:8000 (the web client, and the API under /api/v1)"
	TASKYARD_LOG_FORMAT=$${TASKYARD_LOG_FORMAT:-console} $(BIN)/taskyard serve --host 127.0.0.1 --port 8000

# The web client: built into the package when npm is here; otherwise the API is served alone.
$(WEB_DEPS_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	@echo "==> installing the web client's packages (npm ci)"
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

$(WEB_DIST)/index.html: $(WEB_DEPS_STAMP) $(WEB_SOURCES)
	@echo "==> building the web client"
	cd $(WEB) && npm run build

ifdef HAVE_NPM
web: $(WEB_DIST)/index.html
web-check: $(WEB_DEPS_STAMP)
	cd $(WEB) && npm run typecheck && npm run lint && npm test
else
web:
	@echo "npm not found: serving the API only. Install Node.js 20.19+ and npm for the web client."
web-check:
	@if [ "$$CI" = "true" ]; then echo "npm is required under CI=true"; exit 1; fi
	@echo "npm not found: skipping the web client's tests (its browser tests skip too)."
endif

# After a change to the settings: docs/configuration.md is generated from them.
docs: install
	$(BIN)/python -m taskyard.docs.configuration > docs/configuration.md

# After an API change: the OpenAPI document the client's types come from, and the types.
web-api-types: install $(WEB_DEPS_STAMP)
	$(BIN)/taskyard openapi > $(WEB)/openapi.json
	cd $(WEB) && npm run generate:api

lint: install-dev
	$(BIN)/ruff check src tests bench deploy/local-cluster
	$(BIN)/ruff format --check src tests bench deploy/local-cluster

typecheck: install-dev
	$(BIN)/mypy
	$(BIN)/mypy --strict deploy/local-cluster

# The fast tier three test files at a time; the slow tier's whole-process, fuzz and browser
# tests two files at a time; then the rest of it (Compose, the image, the fault, soak and
# benchmark runs) one test at a time: those measure, and want the machine to themselves.
pytest: install-dev web
	$(BIN)/pytest -m "not slow" -n 3 --dist loadfile
	$(BIN)/pytest -m slow -n 2 --dist loadfile tests/e2e tests/web
	$(BIN)/pytest -m slow tests/deploy
	$(BIN)/pytest -m slow -n 2 --ignore=tests/e2e --ignore=tests/web --ignore=tests/deploy

test: lint typecheck web-check pytest

# The day-to-day loop (under 3 minutes on 2 cores): lint, types and every test but the slow tier
# (browser, Compose, image, whole-process and split deployments, fault, soak, fuzz and benchmark
# runs), three test files at a time. `make test` runs that too, then the slow tier, as CI does.
check: lint typecheck
	$(BIN)/pytest -m "not slow" -n 3 --dist loadfile --durations=5

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache taskyard.db taskyard.db-* \
		$(WEB)/node_modules $(WEB_DIST) build

# Results go to build/bench (untracked); SAVE=1 replaces the committed reference in bench/results.
RESULTS := $(if $(SAVE),--results-dir bench/results,)

bench-edge: install-dev
	$(BIN)/python bench/edge_cost.py $(RESULTS)

bench: install-dev
	$(BIN)/python bench/run.py $(RESULTS)

bench-faults: install-dev
	$(BIN)/python bench/faults.py $(RESULTS)

bench-soak: install-dev
	$(BIN)/python bench/soak.py $(RESULTS)

# The fault and soak traffic's peak on this machine; they run at 50 % and 70 % of it.
bench-peak: install-dev
	$(BIN)/python bench/faults.py --peak $(RESULTS)

# The rate limiter's cost on a cached list; COMPARE=REF measures REF too, in the same run.
bench-limiter: install-dev
	$(BIN)/python bench/limiter_cost.py $(RESULTS) $(if $(COMPARE),--compare $(COMPARE),)

bench-jobs: install-dev
	$(BIN)/python bench/jobs.py $(RESULTS)

bench-profile: install-dev
	$(BIN)/python bench/profile_requests.py $(RESULTS)

bench-servers: install-dev
	$(BIN)/python bench/servers.py $(RESULTS)

bench-split: install-dev
	$(BIN)/python bench/split_cost.py $(RESULTS)

bench-live: install-dev
	$(BIN)/python bench/live.py $(RESULTS)

bench-commits: install-dev
	$(BIN)/python bench/commits.py $(RESULTS)

# The container image (Dockerfile): BASE=python:3.12-slim where a registry is reachable; by
# default a Debian base built here (deploy/images/build-base), as there is none on this machine.
IMAGE ?= localhost/taskyard:$(shell $(PYTHON) -c "import re; print(re.search(r'__version__ = \"(.+)\"', open('src/taskyard/__init__.py').read()).group(1))")
image: web
	podman build --format docker --build-arg BASE=$${BASE:-$$(deploy/images/build-base)} -t $(IMAGE) .

# The Compose stack (deploy/compose.yaml on images built here from Debian), brought up in each
# profile, smoke-tested through its nginx and torn down; `make test` runs it with the rest.
compose-test: install-dev web
	$(BIN)/pytest tests/deploy/test_compose.py -rA
