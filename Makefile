# Two commands on a fresh machine with Python 3.11+ and make:
#   make demo   set up .venv and open the console on the bundled demo plugins
#   make test   set up .venv (with the dev tools) and run the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint proto bench screenshots wheel-check wasm-demo wasm-toolchain clean help

help:
	@echo "make demo | test | lint | proto | bench | screenshots | wheel-check | wasm-demo | wasm-toolchain | clean"

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

# Two workers, a test file each at a time (module-scoped plugins start once): most tests
# wait on real plugin processes, so two workers halve the time on two cores.
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

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

# WebAssembly plugins from C: the demo's and the runtime tests'. The built .wasm files
# are committed, so nothing else needs this toolchain; tests/test_wasm_build.py checks
# they still match their source whenever it is installed. WASM_OUT=DIR builds elsewhere.
WASM_CC      ?= clang
WASI_SYSROOT ?= /usr
WASM_OUT     ?= .
WASM_CFLAGS  := --target=wasm32-wasi --sysroot=$(WASI_SYSROOT) -O2 -std=c11 -Wall -Wextra -Werror \
                -I goatui/demo/wasm -Wl,--strip-debug

wasm-demo:
	@mkdir -p $(WASM_OUT)/goatui/demo/wasm $(WASM_OUT)/tests/wasm
	$(WASM_CC) $(WASM_CFLAGS) -o $(WASM_OUT)/goatui/demo/wasm/ticket-stats.wasm goatui/demo/wasm/ticket-stats.c
	$(WASM_CC) $(WASM_CFLAGS) -o $(WASM_OUT)/tests/wasm/command.wasm tests/wasm/command.c
	$(WASM_CC) $(WASM_CFLAGS) -mexec-model=reactor -o $(WASM_OUT)/tests/wasm/reactor.wasm tests/wasm/reactor.c
	@chmod a-x $(WASM_OUT)/goatui/demo/wasm/ticket-stats.wasm $(WASM_OUT)/tests/wasm/*.wasm

# Debian's packages: clang, its wasm linker, WASI's libc and the wasm32 builtins.
wasm-toolchain:
	apt-get update -qq
	apt-get install -y -qq clang lld wasi-libc libclang-rt-14-dev-wasm32

clean:
	rm -rf $(VENV) build dist *.egg-info
