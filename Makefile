# Streaming Lab: `make lab` to learn, `make test` to check everything, `make bench` to measure.
# Another Python: make PYTHON=python3.13 VENV=.venv-3.13 test (tested on 3.11, 3.12 and 3.13).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# JupyterLab's documented place for settings overrides: <app dir>/settings/overrides.json
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
# Two test processes: most tests wait (on servers, browsers, simulated tokens), so two share 2 cores well.
# Tests of one module stay in one process, for its module-scoped servers and browser.
PARALLEL := -n 2 --dist loadscope --no-loadscope-reorder
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout 60

.PHONY: install lab lint format test unit notebook-tests notebooks browser check check-notebook bench clean

# requirements-dev.txt = requirements.txt (the course; all Binder installs) + the test tools
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Streaming Lab needs Python 3.11 or newer, and $(PYTHON) is " + sys.version.split()[0] + ". Install Python 3.11+ and run: make PYTHON=python3.11 lab")'
	@$(PYTHON) -c 'import sys; sys.version_info[:2] <= (3, 13) or print("Note: Streaming Lab is tested on Python 3.11, 3.12 and 3.13; $(PYTHON) is " + sys.version.split()[0] + ".")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian/Ubuntu install python3-venv (apt-get install python3-venv)"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -e .
	@touch $(STAMP)

# Turns off what would cover the first notebook (the Jupyter news question); Binder's postBuild does the same.
$(LAB_OVERRIDES): binder/overrides.json $(STAMP)
	@mkdir -p $(dir $@)
	cp binder/overrides.json $@

install: $(STAMP) $(LAB_OVERRIDES)

lab: install
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks notebooks/01_generators.ipynb

# ruff over helpers/ and tests/ (settings in pyproject.toml): lint rules, then the formatter's check.
lint: install
	$(VENV)/bin/ruff check helpers tests
	$(VENV)/bin/ruff format --check helpers tests

# Apply ruff's safe fixes and its formatting (then review the diff).
format: install
	$(VENV)/bin/ruff check --fix helpers tests
	$(VENV)/bin/ruff format helpers tests

# Everything: lint, unit tests, every notebook run (its outputs compared as nbval compares them, then
# run again solved, in the same kernel; the notebooks run meanwhile, see tests/notebook_session.py),
# and the browser tests.
test: lint
	$(PY) -m pytest $(PARALLEL) tests

# Lint and the fast unit tests only: no notebook, no browser.
unit: lint
	$(PY) -m pytest $(PARALLEL) tests --ignore=tests/browser -m "not notebooks"

# Every notebook, once per kernel: outputs compared with the stored ones, then solved (part of `make test`).
notebook-tests: install
	$(PY) -m pytest tests -m notebooks

# Plain nbval over every notebook, for those who want nbval's own report (`make test` checks the same).
notebooks: install
	$(PY) -m pytest $(NBVAL) notebooks

browser: install
	$(PY) -m pytest tests/browser

# What CI runs, as CI runs it: a fresh clone of the committed HEAD, a fresh HOME, `CI=true bash .ci/run`.
check:
	bash .ci/fresh-clone

# A teacher's check of students' notebooks: each exercise solved or not, with the check's hint (docs/teaching.md).
#   make check-notebook NB="submissions/alice/04_llm_streaming.ipynb submissions/bob/04_llm_streaming.ipynb"
check-notebook: install
	@test -n "$(NB)" || { echo 'usage: make check-notebook NB=path/to/student.ipynb'; exit 2; }
	$(PY) -m helpers.check_notebook $(NB)

bench: install
	$(PY) -m tests.benchmarks.run

clean:
	rm -rf $(VENV) tests/artifacts build *.egg-info
