# latentlab: two commands do everything on a fresh machine.
#   make lab    create .venv, install latentlab, open JupyterLab on the quickstart notebook
#   make test   create/update .venv with dev extras, run lint, types and every test
# Idempotent: the venv is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
# torch first (a CPU wheel on these machines); then the project, whose torch>=2.2 it satisfies.
CHROMIUM := /usr/bin/chromium
# JupyterLab refuses to run as root without --allow-root (containers often run as root)
LAB := $(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,)
QUICKSTART := notebooks/00_quickstart.ipynb

.PHONY: lab lab-check browser notebooks docs format test test-full lint typecheck unit bench install install-dev clean help

help:
	@echo "make lab    - install and open JupyterLab on notebooks/00_quickstart.ipynb"
	@echo "make test   - install dev extras, run ruff, mypy and every test (unit, property, doctest, notebooks, browser)"
	@echo "make bench  - print the benchmark tables"
	@echo "make test-full - run every notebook in full mode (slow: 15 min; notebook 12 renders LATENTLAB_AT_SCALE_N=3000 fonts)"
	@echo "make notebooks - rebuild notebooks/ from scripts/notebooks/make_*.py"
	@echo "make docs   - build the API reference into build/api/index.html"
	@echo "make lab-check - start the 'make lab' server, check that it answers, stop it (part of make test)"

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
	$(LAB) $(QUICKSTART)

lab-check: install
	$(BIN)/python scripts/check_lab.py -- $(LAB) $(QUICKSTART)

# Debian's chromium for the real-browser tests (Playwright cannot download browsers here):
# installed directly as root, through sudo otherwise, else the command to run is printed.
browser:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; \
	else echo "make test needs Debian chromium at $(CHROMIUM): run as root"; \
	     echo "  apt-get update && apt-get install -y chromium chromium-driver"; exit 1; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	     echo "make test needs chromium at $(CHROMIUM) (Debian's apt-get install -y chromium);" \
	          "point LATENTLAB_CHROMIUM at another build, or deselect the browser tests: pytest -m 'not browser'"; \
	     exit 1; fi; \
	echo "== installing Debian chromium for the real-browser tests"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null

lint: install-dev
	$(BIN)/ruff check latentlab tests benchmarks scripts
	$(BIN)/ruff format --check latentlab tests benchmarks scripts
	$(BIN)/lint-imports

# apply the formatter that `make lint` checks
format: install-dev
	$(BIN)/ruff format latentlab tests benchmarks scripts

typecheck: install-dev
	$(BIN)/mypy

unit: install-dev
	$(BIN)/pytest -m "not browser and not notebook"

test: lint typecheck docs browser lab-check
	$(BIN)/pytest

# the API reference (pdoc) in build/api/index.html; fails on a name or docstring pdoc cannot resolve
docs: install-dev
	$(BIN)/python scripts/build_docs.py --out build/api

# every notebook in full mode (no LATENTLAB_QUICK), as a user runs it: slow (minutes per notebook)
test-full: install-dev
	LATENTLAB_NOTEBOOKS_FULL=1 $(BIN)/pytest tests/test_notebooks.py -m notebook -k test_notebook_runs

# rebuild notebooks/ from scripts/notebooks/make_*.py (tests/test_notebook_sources.py checks they agree)
notebooks: install-dev
	@for script in scripts/notebooks/make_*.py; do PYTHONPATH=. $(BIN)/python $$script || exit 1; done

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
