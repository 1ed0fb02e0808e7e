# pathkg — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every extra the tests need, resolved together in one pip call (one consistent set).
EXTRAS := dev,train,ray

.PHONY: install demo test bench lint fmt schemas clean neo4j-up neo4j-down chromium

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

demo: install
	$(BIN)/pathkg run pipelines/configs/demo.yaml --run-dir runs/demo
	$(BIN)/pathkg export validate runs/demo/export
	@echo ""
	@echo "demo outputs in runs/demo:"
	@echo "  export/            the Hugging Face dataset (datasets.load_dataset('runs/demo/export'))"
	@echo "  report/index.html  the run report with plots"
	@echo "  review/queue.parquet  flagged samples waiting for review (pathkg review serve runs/demo)"
	@echo "  manifest.json      config, versions, timings, counts  (pathkg status runs/demo)"

test: install neo4j-up chromium
	$(BIN)/python -m pytest -q

bench: install
	set -e; for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script; done

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schemas: install
	$(BIN)/pathkg schemas write

# The real Neo4j Community server the `neo4j` tests use (services/neo4j; NEO4J_PORT, default 7687).
neo4j-up:
	bash services/neo4j/up.sh

neo4j-down:
	bash services/neo4j/down.sh

# Debian's Chromium for the review page's browser tests (Playwright drives /usr/bin/chromium; nothing is downloaded
# by Playwright). Installed as root, non-interactively, when missing.
chromium:
	@test -x /usr/bin/chromium || { test "$$(id -u)" = 0 || { echo "chromium missing: run as root, or apt-get install -y chromium" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

clean:
	rm -rf runs .pytest_cache .ruff_cache
