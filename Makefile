# latentlab: two commands do everything on a fresh machine.
#   make lab    create .venv, install latentlab, open JupyterLab on the quickstart notebook
#   make test   create/update .venv with dev extras, run lint, types and every test
# Idempotent: the venv is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
# torch first (a CPU wheel on these machines); then the project, whose torch>=2.2 it satisfies.

.PHONY: lab test lint typecheck unit bench install install-dev clean help

help:
	@echo "make lab    - install and open JupyterLab on notebooks/00_quickstart.ipynb"
	@echo "make test   - install dev extras, run ruff, mypy and every test (unit, property, doctest, notebooks, browser)"
	@echo "make bench  - print the benchmark tables"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[lab]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-lab

install: $(VENV)/.installed-lab
install-dev: $(VENV)/.installed-dev

lab: install
	$(BIN)/jupyter lab notebooks/00_quickstart.ipynb

lint: install-dev
	$(BIN)/ruff check latentlab tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: install-dev
	$(BIN)/mypy

unit: install-dev
	$(BIN)/pytest -m "not browser and not notebook"

test: lint typecheck
	$(BIN)/pytest

bench: install-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) artifacts .pytest_cache .mypy_cache .ruff_cache

# --------------------------------------------------------------------------- offline workshop kit
# make wheelhouse        latentlab and every dependency (torch too) as wheels in wheelhouse/, for a room
#                        with no internet: pip install --no-index --find-links wheelhouse "latentlab[lab,video,fonts,maps,plot]"
# make check-wheelhouse  a fresh venv installs from wheelhouse/ alone, runs `latentlab doctor` and the first
#                        workshop notebook (a few minutes; docs/workshop/GUIDE.md)
WHEELHOUSE ?= wheelhouse
KIT_EXTRAS ?= lab,video,fonts,maps,plot

.PHONY: wheelhouse check-wheelhouse

wheelhouse: | $(BIN)/python
	$(BIN)/python -m pip wheel --quiet --wheel-dir $(WHEELHOUSE) $(TORCH) ".[$(KIT_EXTRAS)]"
	@echo "wrote $(WHEELHOUSE)/ ($$(ls $(WHEELHOUSE) | wc -l) wheels, $$(du -sh $(WHEELHOUSE) | cut -f1))"

check-wheelhouse: | $(BIN)/python
	$(BIN)/python scripts/workshop/check_wheelhouse.py $(WHEELHOUSE) --extras $(KIT_EXTRAS)
