# Academic Network Platform — developer entry points. `make` alone prints this help.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# reinstalls only when pyproject.toml is newer than the last successful install
STAMP := $(VENV)/.installed

.PHONY: help venv run test lint clean

help:
	@echo "make venv   create $(VENV) (when missing) and install the project with its dev extras"
	@echo "make run    run the whole platform locally in the foreground (Ctrl-C stops it; data in var/local)"
	@echo "make test   ruff, then the whole pytest suite (starts its own broker and store)"
	@echo "make lint   ruff only"
	@echo "make clean  remove var/ (local data and logs)"
	@echo "PYTHON=...  interpreter used to create the venv (default: python3)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: venv
	$(PY) -m deploy.local.run

test: venv
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf var/
