# The one entry point for people and CI.  `make run` starts leadpact with demo data; `make test` runs everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: run test install install-dev lint typecheck migrations-check audit test-sqlite test-postgres services messages bench clean

run: install            ## install into .venv, prepare the database with demo data, and serve
	$(BIN)/leadpact start

test: install-dev services lint typecheck migrations-check audit   ## the whole suite
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres  # side by side: 2 cores

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

services:               ## PostgreSQL running, Debian's Chromium present (browser tests)
	bash .ci/services

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck:
	$(BIN)/mypy

audit:                  ## known vulnerabilities in the dependencies (pip-audit); says so when it cannot reach the advisories
	$(PYTHON) .ci/audit $(VENV)

migrations-check:
	LEADPACT_DATA_DIR=$$(mktemp -d) $(BIN)/leadpact makemigrations --check --dry-run

test-sqlite:            ## the suite on SQLite only; `make test` runs it beside test-postgres, output kept apart
	LEADPACT_TEST_HALF=sqlite LEADPACT_DATA_DIR=$$(mktemp -d) $(BIN)/pytest $(PYTEST_ARGS)

test-postgres:
	LEADPACT_TEST_HALF=postgresql LEADPACT_DATA_DIR=$$(mktemp -d) DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS)

messages:              ## refresh the Dutch catalogue (src/leadpact/locale) and compile it
	cd src/leadpact && ../../$(BIN)/leadpact makemessages -l nl --ignore "migrations/*" && ../../$(BIN)/leadpact compilemessages

bench: install-dev      ## benchmarks with their baselines (prints tables; see README)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/business_time.py

clean:
	rm -rf $(VENV) data build *.egg-info
