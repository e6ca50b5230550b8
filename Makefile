# omshub: `make demo` and `make test` each set up everything on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export OMSHUB_HOME := $(CURDIR)
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export GX_ANALYTICS_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock setup.py connectors/x12/_speedups.c
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check 'uv>=0.7,<1'
	$(VENV)/bin/uv pip install -q --python $(PY) -r requirements.lock
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps -e .
	@touch $@

install: $(STAMP) ## create .venv and install the locked dependencies

lock: ## re-resolve requirements.lock from pyproject.toml
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra dev -o requirements.lock

$(AIRFLOW_HOME)/airflow.db: $(STAMP)
	@mkdir -p $(AIRFLOW_HOME)
	$(VENV)/bin/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)

airflow-init: $(AIRFLOW_HOME)/airflow.db ## migrate Airflow's project-local SQLite metadata DB

demo: install airflow-init ## run every source DAG through Airflow on the embedded store, print the table
	$(VENV)/bin/omshub db upgrade
	AIRFLOW__LOGGING__LOGGING_LEVEL=$${AIRFLOW__LOGGING__LOGGING_LEVEL:-ERROR} $(PY) -m omshub_airflow.demo

airflow: airflow-init ## run the Airflow CLI with the project's env, e.g. make airflow ARGS="dags list --local"
	$(VENV)/bin/airflow $(ARGS)

system-deps:
	@.ci/ensure-system-deps.sh

test: system-deps install ## the whole suite (SQLite, a real PostgreSQL, real Airflow DAG runs)
	$(PY) -m pytest -q --durations=5 $(PYTEST_ARGS)

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: install ## load-engine benchmark (1M order lines, SQLite and PostgreSQL) and DAG parse time
	$(PY) bench/load.py --db sqlite $(BENCH_ARGS)
	$(PY) bench/load.py --db postgresql $(BENCH_ARGS)
	$(PY) bench/dagparse.py

clean-state: ## forget the local store, landing zone and Airflow DB (keeps .venv)
	rm -rf .omshub .airflow

.PHONY: system-deps help install lock airflow-init airflow demo test lint bench clean-state
