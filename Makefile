# Streaming Lab: `make lab` to learn, `make test` to check everything, `make bench` to measure.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout 60

.PHONY: install lab test unit notebooks browser bench clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Streaming Lab needs Python 3.11 or newer, and $(PYTHON) is " + sys.version.split()[0] + ". Install Python 3.11+ and run: make PYTHON=python3.11 lab")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian/Ubuntu install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -e .
	@touch $(STAMP)

install: $(STAMP)

lab: install
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks notebooks/01_generators.ipynb

test: install
	$(PY) -m pytest tests
	$(PY) -m pytest $(NBVAL) notebooks

unit: install
	$(PY) -m pytest tests --ignore=tests/browser

notebooks: install
	$(PY) -m pytest $(NBVAL) notebooks

browser: install
	$(PY) -m pytest tests/browser

bench: install
	$(PY) tests/benchmarks/run.py

clean:
	rm -rf $(VENV) tests/artifacts build *.egg-info
