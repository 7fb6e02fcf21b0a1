# Dibs: `make run` starts the bot, `make test` runs every check. `make help` lists the rest.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-11s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install --quiet -e . --group dev
	@touch $(STAMP)

install: $(STAMP) ## Create the virtual environment and install Dibs with its dev tools

run: $(STAMP) ## Migrate the database and start the bot (HTTP on :3000, or Socket Mode with SLACK_APP_TOKEN)
	$(BIN)/dibs db upgrade
	$(BIN)/dibs serve --port $${PORT:-3000}

lint: $(STAMP) ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

type: $(STAMP) ## mypy --strict
	$(BIN)/mypy .

pytest: $(STAMP) ## The test suite (SQLite and PostgreSQL)
	$(BIN)/pytest -q

test: lint type pytest ## Everything CI runs: lint, types, all tests

test-pg: $(STAMP) ## Only the PostgreSQL-marked tests
	$(BIN)/pytest -q -m postgres

migrate: $(STAMP) ## Apply database migrations
	$(BIN)/dibs db upgrade

bench: $(STAMP) ## Quick benches (submissions, matching), written into docs/benchmarks.md
	$(BIN)/python -m bench.submissions -n 1000 -c 20 --write-docs
	$(BIN)/python -m bench.matching_eval --write-docs

bench-full: bench ## Also the million-account lookup and import benches (minutes, ~1 GB RAM)
	$(BIN)/python -m bench.conflict_lookup -n 1000000 --write-docs
	$(BIN)/python -m bench.crm_import -n 1000000 --write-docs

.PHONY: help install run lint type pytest test test-pg migrate bench bench-full
