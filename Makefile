# Two commands on a fresh machine: `make run` serves the demo, `make test` runs every test.
VENV     ?= .venv
PYTHON   ?= python3
BIN      := $(VENV)/bin
HOST     ?= 127.0.0.1
PORT     ?= 8000
WORKERS  ?= 4
THREADS  ?= 4

.PHONY: run test lint migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

## run: migrate the SQLite database in instance/, seed a demo event if there is none, serve with gunicorn
run: export APP_ENV ?= development
run: $(VENV)/.runtime-installed .env
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo
	@echo "Serving on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/docs)"
	exec $(BIN)/gunicorn --workers $(WORKERS) --threads $(THREADS) --bind $(HOST):$(PORT) wsgi:app

# Settings for `make run` and for `flask` commands run in this folder (edit freely; never committed).
.env:
	cp .env.example .env

## test: lint, then the whole suite on SQLite and on PostgreSQL
test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrate: $(VENV)/.runtime-installed
	$(BIN)/flask --app wsgi db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
