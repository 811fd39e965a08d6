# The two commands of this repository: `make demo` and `make test` (README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
COLLECTIONS := $(CURDIR)/$(VENV)/collections
STAMP := $(VENV)/.installed

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_HOST_KEY_CHECKING := False
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv test test-twin test-unit test-integration demo bench twin clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	mkdir -p $(COLLECTIONS)/ansible_collections/vapix
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/vapix/q6000
	touch $@

test: venv
	$(BIN)/python -m pytest -n 2 tests/twin tests/unit tests/integration

test-twin: venv
	$(BIN)/python -m pytest -n 2 tests/twin

test-unit: venv
	$(BIN)/python -m pytest tests/unit

test-integration: venv
	$(BIN)/python -m pytest -n 2 tests/integration

demo: venv
	$(BIN)/python -m tests.demo

bench: venv
	$(BIN)/python -m tests.bench

twin: venv
	$(BIN)/python -m tests.emulator --units 3 --inventory .twin/inventory.yml

clean:
	rm -rf $(VENV) .twin .pytest_cache tests/output
