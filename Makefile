# Two commands on a fresh machine with Python 3.11+ and make:
#   make demo   set up .venv and open the console on the bundled demo plugins
#   make test   set up .venv (with the dev tools) and run the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint proto bench screenshots wheel-check clean help

help:
	@echo "make demo | test | lint | proto | bench | screenshots | wheel-check | clean"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "goatui needs Python 3.11+; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project's metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/goatui demo

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check goatui tests proto benchmarks
	$(BIN)/ruff format --check goatui tests proto benchmarks
	$(BIN)/mypy goatui

proto: $(VENV)/.installed-dev
	$(BIN)/python proto/generate.py

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks

screenshots: $(VENV)/.installed-dev
	$(BIN)/python -m docs.screenshots

# The package must work installed from a wheel, not only editable.
wheel-check: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_wheel.py

clean:
	rm -rf $(VENV) build dist *.egg-info
