# Academic Network Platform — developer entry points. `make` alone prints this help.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# reinstalls only when pyproject.toml is newer than the last successful install
STAMP := $(VENV)/.installed
# the dashboard's front-end libraries, pinned in its package-lock.json (npm writes this file on install)
DASHBOARD := services/monitoring/dashboard
ASSETS := $(DASHBOARD)/node_modules/.package-lock.json

.PHONY: help venv assets run test bench bench-national bench-full lint clean

help:
	@echo "make venv   create $(VENV) (when missing) and install the project with its dev extras"
	@echo "make run    run the whole platform locally in the foreground (Ctrl-C stops it; data in var/local)"
	@echo "make test   ruff, then the whole pytest suite (starts its own broker and store)"
	@echo "make bench  the benchmarks, small mode (a few minutes): table on screen, figures in bench/results.json"
	@echo "make bench-national  the national directory (29,000 schools) with an eighth of a year's events"
	@echo "make bench-full  the benchmarks at national scale (29,000 schools, millions of events; long)"
	@echo "make assets install the dashboard's pinned front-end libraries (npm ci)"
	@echo "make lint   ruff only"
	@echo "make clean  remove var/ (local data and logs)"
	@echo "PYTHON=...  interpreter used to create the venv (default: python3)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

assets: $(ASSETS)

$(ASSETS): $(DASHBOARD)/package-lock.json
	npm ci --prefix $(DASHBOARD) --no-audit --no-fund --loglevel=error
	@touch $(ASSETS)

run: venv assets
	$(PY) -m deploy.local.run

test: venv assets
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

bench: venv
	$(PY) -m bench

bench-national: venv
	$(PY) -m bench --scale national

bench-full: venv
	$(PY) -m bench --full

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf var/
