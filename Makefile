# Two commands on a fresh machine: `make run` serves the demo, `make test` runs every test.
VENV     ?= .venv
PYTHON   ?= python3
BIN      := $(VENV)/bin
HOST     ?= 127.0.0.1
PORT     ?= 8000
WORKERS  ?= 4
THREADS  ?= 8
# Worker processes write their metrics here so /metrics adds them up (emptied at each start).
METRICS_DIR ?= $(CURDIR)/instance/prometheus

.PHONY: run test test-fast lint migrate clean sweeper bench bench-best bench-browser bench-hosts bench-door

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
# APP_ENV=development is set here, for these commands only: it is what makes them read .env.development.
run: export APP_ENV = development
run: $(VENV)/.runtime-installed .env.development
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo
	@echo "Serving on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/docs)"
	GUNICORN_BIND=$(HOST):$(PORT) WEB_CONCURRENCY=$(WORKERS) GUNICORN_THREADS=$(THREADS) \
	  PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) exec $(BIN)/gunicorn -c gunicorn.conf.py

## sweeper: the long-running clean-up (expire-holds --loop); run one beside `make run` in production
sweeper: export APP_ENV = development
sweeper: $(VENV)/.runtime-installed .env.development
	exec $(BIN)/flask --app wsgi expire-holds --loop

## bench: the performance benchmark (gunicorn -c gunicorn.conf.py on PostgreSQL, load from wrk); see bench/run.py
##        compare another set-up: make bench BENCH_ARGS="--worker-class sync --workers 8"
bench: $(VENV)/.dev-installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## bench-best: best available's p50/p99 with 16 buyers at once on events of 1,000, 20,000 and 100,000 seats
##             half sold (gunicorn on PostgreSQL); see bench/best_available.py
bench-best: $(VENV)/.dev-installed
	$(BIN)/python bench/best_available.py $(BENCH_ARGS)

## bench-door: check-ins/s on a 20,000-ticket event with 16 doors, beside locks/s and the ceiling app's
##             locks/s under the same load (gunicorn on PostgreSQL); see bench/checkins.py (about 1.5 minutes)
bench-door: $(VENV)/.dev-installed
	$(BIN)/python bench/checkins.py $(BENCH_ARGS)

## bench-hosts: do hosts add throughput? 1 and 3 hosts (network namespaces, as root) behind HAProxy and
##              PgBouncer on one event, locks/s and PostgreSQL's backends; see bench/hosts.py (about 3 minutes)
bench-hosts: $(VENV)/.dev-installed
	$(BIN)/python bench/hosts.py $(BENCH_ARGS)

## bench-browser: the live seat map's figures (page in Chromium, feed latency, cost of watchers); see bench/browser.py
bench-browser: $(VENV)/.dev-installed
	$(BIN)/python bench/browser.py

# Settings of `make run` and `make sweeper` (edit freely; never committed). Read only when the
# environment says APP_ENV=development, so production commands run here never pick them up; `.env`
# is left to the operator (`flask` reads it whatever APP_ENV is).
.env.development:
	cp .env.example .env.development

## test: lint, then the whole suite on SQLite and on PostgreSQL (both always, whatever TEST_DATABASES says)
test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	TEST_DATABASES=sqlite,postgresql $(BIN)/pytest

## test-fast: the edit loop: lint, then tests/unit and tests/api on SQLite only (under a minute)
test-fast: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	TEST_DATABASES=sqlite $(BIN)/pytest -q tests/unit tests/api

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrate: $(VENV)/.runtime-installed
	$(BIN)/flask --app wsgi db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
