# Session Observatory — developer entry points.
#   make run     install into .venv, build the dashboard if npm is here, serve with demo data
#                on the embedded PostgreSQL (nothing to set up)
#   make test    lint + format check + the Python test suite (+ the frontend's, where present)
#   make bench   the benchmark scripts in bench/
#   make schema  regenerate schema.graphql
# The Python tests need a PostgreSQL server: OBSERVATORY_TEST_DATABASE_URL, default
# postgresql+asyncpg://postgres@127.0.0.1:5432/postgres (trust auth); .ci/run provides one.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINT_PATHS := backend tests migrations bench

# Frontend test targets to run after the Python suite (only where frontend/package.json
# exists). Their owner appends to it below, e.g. `TEST_EXTRA += frontend-test e2e`.
TEST_EXTRA ?=

# `frontend` is also a directory: without .PHONY make would call the target up to date.
.PHONY: run test test-python test-frontend lint bench schema venv clean frontend

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --disable-pip-version-check -e '.[test]'
	touch $@

run: $(STAMP)
	@if command -v npm >/dev/null 2>&1 && [ -f frontend/package.json ]; then \
		$(MAKE) frontend || echo "warning: the dashboard did not build; serving the API only" >&2; \
	else \
		echo "npm or frontend/ not found: serving the API without the dashboard" >&2; \
	fi
	$(BIN)/observatory serve --demo

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

test-python: lint
	$(BIN)/pytest -q

test: test-python test-frontend

# Runs $(TEST_EXTRA) (expanded when the recipe runs, so later `+=` lines count).
test-frontend:
	@if [ -f frontend/package.json ] && [ -n "$(strip $(TEST_EXTRA))" ]; then \
		$(MAKE) $(TEST_EXTRA); \
	fi

bench: $(STAMP)
	@set -e; found=0; for script in bench/*.py; do \
		[ -f "$$script" ] || continue; found=1; \
		echo "== $$script"; $(BIN)/python "$$script"; \
	done; [ $$found = 1 ] || echo "no benchmark scripts in bench/ yet"

schema: $(STAMP)
	$(BIN)/observatory export-schema

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

# ---------------------------------------------------------------------------------------
# Dashboard (frontend/, its own npm project): build, unit tests, browser tests.
#   make frontend       npm ci (when the lockfile changed) + typed codegen + tsc + vite build,
#                       then the first-screen JS size check (fails over 300 kB gzip)
#   make frontend-test  Vitest unit tests (formatting, filters, chart options, live merging)
#   make e2e            headless Chromium against `observatory serve --demo` on a throwaway
#                       database; screenshots in frontend/test-results/
TEST_EXTRA += frontend-test e2e
FRONTEND_DEPS := frontend/node_modules/.package-lock.json
.PHONY: frontend-test e2e

$(FRONTEND_DEPS): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

frontend: $(FRONTEND_DEPS)
	cd frontend && npm run build

frontend-test: $(FRONTEND_DEPS)
	cd frontend && npm test

e2e: $(STAMP) frontend
	@test -x /usr/bin/chromium || { echo "e2e needs Debian's chromium: apt-get install -y chromium" >&2; exit 1; }
	cd frontend && npm run --silent e2e
