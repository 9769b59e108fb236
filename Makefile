# Session Observatory — developer entry points.
#   make run     install into .venv, build the dashboard if npm is here and it is stale, serve
#                with demo data on the embedded PostgreSQL (nothing to set up)
#   make test    lint + format check + the Python test suite (+ the frontend's, where present)
#   make test-package  build the wheel, install it in a fresh virtualenv, serve it (minutes)
#   make dist    wheel + sdist in dist/, dashboard included (fails without one)
#   make bench   the benchmark scripts in bench/
#   make schema  regenerate schema.graphql
# The Python tests need a PostgreSQL server: OBSERVATORY_TEST_DATABASE_URL, default
# postgresql+asyncpg://postgres@127.0.0.1:5432/postgres (trust auth); .ci/run provides one.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
LINT_PATHS := backend tests migrations bench examples setup.py

# Frontend test targets to run after the Python suite (only where frontend/package.json
# exists). Their owner appends to it below, e.g. `TEST_EXTRA += frontend-test e2e`.
TEST_EXTRA ?=

# `frontend` is also a directory: without .PHONY make would call the target up to date.
.PHONY: run test test-python test-frontend test-package dist lint bench schema venv clean frontend test-openclaw

# Install into .venv with uv where it is (or can be bootstrapped with pip: ~5x faster than pip's
# own resolver and downloads on a fresh clone), else with pip. $(1): what to install.
define install
	@test -x $(BIN)/python || { \
		if command -v uv >/dev/null 2>&1; then uv venv -q --seed --python $(PYTHON) $(VENV); \
		else $(PYTHON) -m venv $(VENV); fi; }
	@uv=$$(command -v uv || echo $(BIN)/uv); \
	if [ ! -x "$$uv" ]; then \
		$(BIN)/python -m pip install -qq --disable-pip-version-check uv >/dev/null 2>&1 || uv=; \
	fi; \
	if [ -n "$$uv" ] && "$$uv" pip install -q --python $(BIN)/python $(1); then :; \
	else $(BIN)/python -m pip install -qq --disable-pip-version-check $(1); fi
	@# an older checkout installed the distribution as `observatory`: drop that name
	@$(BIN)/python -m pip uninstall -qq -y observatory >/dev/null 2>&1 || true
endef

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py
	$(call install,-e '.[test]')
	touch $@ $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml setup.py
	$(call install,-e .)
	touch $@

# Prints the URL, the admin key and how to stop. The Python install and the dashboard build
# run side by side (both mostly wait on downloads); the build's output goes to a log.
run:
	@$(MAKE) -s -j2 $(RUN_STAMP) dashboard-for-run
	@$(BIN)/observatory serve --demo

.PHONY: dashboard-for-run
dashboard-for-run:
	@if ! command -v npm >/dev/null 2>&1 || [ ! -f frontend/package.json ]; then \
		echo "npm or frontend/ not found: serving the API without the dashboard" >&2; \
	elif ! $(MAKE) -s -q frontend/dist/index.html; then \
		echo "building the dashboard (log: frontend/build.log) …" >&2; \
		$(MAKE) -s frontend > frontend/build.log 2>&1 \
			|| echo "warning: the dashboard did not build (see frontend/build.log); serving the API only" >&2; \
	fi

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

# The real-OpenClaw tier: installs Node 24 + openclaw (pinned, from the npm registry) into
# ~/.cache/observatory-openclaw once, then drives a two-agent scenario against a stub model
# and syncs it through both transports. Needs npm and the npm registry; takes minutes.
test-openclaw: $(STAMP)
	$(BIN)/python tests/openclaw_real/openclaw_install.py
	$(BIN)/pytest -q -rs -m openclaw tests/openclaw_real

bench: $(STAMP)
	@set -e; found=0; for script in bench/*.py; do \
		[ -f "$$script" ] || continue; found=1; \
		echo "== $$script"; $(BIN)/python "$$script"; \
	done; [ $$found = 1 ] || echo "no benchmark scripts in bench/ yet"

schema: $(STAMP)
	$(BIN)/observatory export-schema

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build dist

# The wheel test (tests/test_package.py): builds, installs in a fresh venv, serves, fetches.
test-package: $(STAMP) frontend
	$(BIN)/pytest -q -m package tests/test_package.py

# Release artifacts: the build step puts the dashboard inside (see setup.py); without npm
# and without frontend/dist this fails rather than ship an API-only wheel.
dist: $(STAMP) frontend
	rm -rf dist build
	# the wheel is built from the sdist, so this also proves the sdist is complete
	OBSERVATORY_REQUIRE_DASHBOARD=1 $(BIN)/python -m build -o dist .

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

# Rebuilt only when a source is newer than the built index.html (codegen reads schema.graphql).
FRONTEND_SOURCES := $(shell find frontend/src frontend/public frontend/scripts -type f 2>/dev/null \
	| grep -v '/src/gql/') frontend/index.html frontend/vite.config.ts frontend/codegen.ts \
	frontend/tsconfig.json schema.graphql
frontend/dist/index.html: $(FRONTEND_DEPS) $(FRONTEND_SOURCES)
	cd frontend && npm run build
	@touch $@

frontend: frontend/dist/index.html

frontend-test: $(FRONTEND_DEPS)
	cd frontend && npm test

e2e: $(STAMP) frontend
	@test -x /usr/bin/chromium || { echo "e2e needs Debian's chromium: apt-get install -y chromium" >&2; exit 1; }
	cd frontend && npm run --silent e2e
