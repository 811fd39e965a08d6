# The two commands of this repository: `make demo` and `make test` (README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
COLLECTIONS := $(CURDIR)/$(VENV)/collections
STAMP := $(VENV)/.installed
# The second Python of the version matrix lives inside .venv, so .venv stays the only environment.
PYTHON312 ?= $(shell tests/utils/find-python 3.12)
VENV312 := $(VENV)/py312
BIN312 := $(VENV312)/bin
STAMP312 := $(VENV312)/.installed
# ansible-test runs on a copy of the collection (tests/utils/run_ansible_test.py says why).
ANSIBLE_TEST := tests/utils/run_ansible_test.py
# What ansible-lint checks: roles and playbooks when there are any, and the collection's metadata.
LINT_PATHS := $(wildcard roles playbooks extensions) galaxy.yml meta/runtime.yml meta/execution-environment.yml execution-environment.yml

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_HOST_KEY_CHECKING := False
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv venv312 chromium test suites gates sanity units lint changelog release matrix-py312 suites-py312 \
	sanity-py312 test-twin test-unit test-integration demo bench twin clean molecule

# Main environment: Python 3.11, ansible-core 2.19, every tool; the collection linked where Ansible finds it.
venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	mkdir -p $(COLLECTIONS)/ansible_collections/vapix
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/vapix/q6000
	touch $@

# Python 3.12 environment with ansible-core 2.21 (2.20+ needs Python 3.12), same pinned tools.
venv312: $(STAMP312)

$(STAMP312): requirements.txt requirements-dev.txt | $(STAMP)
	$(PYTHON312) -m venv $(VENV312)
	$(BIN312)/python -m pip install --quiet --upgrade pip
	$(BIN312)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Each suite and gate says how long it took (tests/utils/timed); `make test` lists them all at the end.
TIMED := tests/utils/timed
export TIMES_FILE := $(CURDIR)/tests/output/times.txt

# Everything CI checks. --keep-going so that one run reports every failing suite and gate.
test:
	mkdir -p $(dir $(TIMES_FILE)) && rm -f $(TIMES_FILE)
	$(TIMED) environments $(MAKE) venv venv312 chromium
	$(MAKE) --keep-going suites gates matrix-py312; status=$$?; \
		echo "== time per step of make test"; cat $(TIMES_FILE); exit $$status

# Debian's headless Chromium, for the browser check of the fleet report (tests/integration/test_report.py).
chromium:
	tests/utils/install-chromium

# The project's pytest suites on the main environment; the slowest tests are listed, to keep `make test` short.
suites: venv chromium
	$(TIMED) suites $(BIN)/python -m pytest -n 2 --dist loadgroup --durations=20 tests/twin tests/unit tests/integration

# Release gates on the main environment.
gates: sanity units lint changelog release molecule

# ansible-test's static checks of the whole collection, each in the venv ansible-test pins for it
# (--venv: what collection CI does when it cannot use containers).
sanity: venv
	$(TIMED) sanity $(BIN)/python $(ANSIBLE_TEST) sanity --venv --python 3.11 --color no

# The unit tests in ansible-test's collection layout, in .venv (--local: it holds the runtime needs).
units: venv
	$(TIMED) units $(BIN)/python $(ANSIBLE_TEST) units --local --python 3.11 --color no

# Roles and playbooks against the production profile (settings in .ansible-lint; never online).
lint: venv
	$(TIMED) lint $(BIN)/ansible-lint --offline --nocolor $(LINT_PATHS)

# Changelog fragments must parse, or the release's changelog cannot be generated.
changelog: venv
	$(TIMED) changelog $(BIN)/antsibull-changelog lint

# Build, install and run the collection as users get it; execution environment; AWX-style run.
release: venv
	$(TIMED) release $(BIN)/python -m pytest -n 2 tests/release

# The roles the way collection users test them, with Molecule on a twin fleet: a second converge must change nothing.
molecule: venv
	$(TIMED) molecule $(BIN)/molecule test

# The newest supported pair: ansible-core 2.21 on Python 3.12. Its tools come first on PATH, so the
# suites' ansible-playbook runs are 2.21's too.
matrix-py312: suites-py312 sanity-py312

# What does not change with the Python and ansible-core versions runs once, on the main environment: the firmware
# variance matrix and the client's own tests (the client talks HTTP, Ansible is not involved), the image work
# (OpenCV, the site's troubles included), the store and AWX runs (git, ansible-runner) and the fleet bench's smoke run. The 500-unit rollout is
# a load test: `make bench` (section fleet) runs it and fails when a unit is left unlinked or uncalibrated.
ONE_PIN := test_variance test_client test_firmware test_wire_table test_calibration_capture test_image_drift \
	test_report_images test_store test_awx_fleet test_bench_smoke test_site_troubles
suites-py312: venv312 chromium
	PATH=$(CURDIR)/$(BIN312):$$PATH $(TIMED) suites-py312 $(BIN312)/python -m pytest -n 2 --dist loadgroup --durations=10 tests/unit tests/integration \
		$(foreach suite,$(ONE_PIN),--ignore=tests/integration/$(suite).py)

sanity-py312: venv312
	PATH=$(CURDIR)/$(BIN312):$$PATH $(TIMED) sanity-py312 $(BIN312)/python $(ANSIBLE_TEST) sanity --venv --python 3.12 --color no

# One suite at a time, while working on it.
test-twin: venv
	$(BIN)/python -m pytest -n 2 tests/twin

test-unit: venv
	$(BIN)/python -m pytest tests/unit

test-integration: venv chromium
	$(BIN)/python -m pytest -n 2 tests/integration

# What a user sees: playbooks against a twin fleet (README.md).
demo: venv
	$(BIN)/python -m tests.demo

# Fleet-speed measurements against the twin.
bench: venv
	$(BIN)/python -m tests.bench

# A twin fleet in the foreground, for trying playbooks by hand.
twin: venv
	$(BIN)/python -m tests.emulator --units 3 --inventory .twin/inventory.yml

# Back to a fresh checkout (ansible-test's own cache under ~/.ansible stays).
clean:
	rm -rf $(VENV) .twin .pytest_cache .ansible dist tests/output
