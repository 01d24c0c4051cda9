# The README's two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SCALE ?= 1

.PHONY: run test setup lint bench migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when the project's metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

migrate: setup
	$(BIN)/tichub db upgrade

seed: migrate
	$(BIN)/tichub demo seed --scale $(SCALE) --if-empty

# Plain HTTP on the loopback address, so the session cookie cannot carry the Secure flag here.
run: seed
	TICHUB_COOKIE_SECURE=false $(BIN)/uvicorn tichub.app:create_app --factory --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/search.py
	$(BIN)/python bench/tlog.py
	$(BIN)/python bench/pt.py
	$(BIN)/python bench/pt_report.py
	$(BIN)/python bench/market.py
	$(BIN)/python bench/lca.py
	$(BIN)/python bench/supervision.py
	$(BIN)/python bench/load.py --db sqlite
	$(BIN)/python bench/load.py --db postgres

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
