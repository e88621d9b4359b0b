# One command surface for humans and CI. `make test` and `make demo` install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
CHECKOV_VENV ?= .venv-checkov
BIN := $(VENV)/bin
# Own environments, because checkov ships a fork of the hcl2 module that shadows python-hcl2,
# and PyFlink pins old numpy/pyarrow.
CHECKOV_BIN := $(CHECKOV_VENV)/bin
CHECKOV_VERSION ?= 3.3.30
FLINK_VENV ?= .venv-flink
FLINK_VERSION ?= 1.20.5
PYTEST_ARGS ?=
# Two pytest-xdist workers, a test file at a time; tests/conftest.py keeps the e2e files of the
# shared local stack on one worker and orders the long work first, which
# `--no-loadscope-reorder` keeps. `make test PYTEST_XDIST=` runs the suite serially.
PYTEST_XDIST ?= -n 2 --dist loadfile --no-loadscope-reorder

.PHONY: help setup lint fmt tf-check checkov test unit demo bench clean browser-deps

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS=":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/ecomm: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,etl]'
	@touch $@

setup: $(BIN)/ecomm ## Create .venv and install the project with its dev tools

$(CHECKOV_BIN)/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_BIN)/pip install --quiet --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'
	@touch $@

lint: setup ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ecomm_cli lambdas glue flink

fmt: setup ## Format Python and Terraform
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	terraform fmt -recursive terraform

tf-check: setup ## terraform fmt check, validate of every environment, terraform test of every module
	$(BIN)/python -m ecomm_cli.infra.tf_check

# PyFlink for the conformance tests in tests/flink (they run it as a subprocess). The venv's
# python exists before pip finishes, so a failed install removes the venv to be retried.
$(FLINK_VENV)/bin/python:
	$(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_VENV)/bin/pip install --quiet --disable-pip-version-check 'apache-flink==$(FLINK_VERSION)' \
		|| { rm -rf $(FLINK_VENV); exit 1; }
	@touch $@

# Debian's chromium for tests/browser (the report rendered headless); needs root or sudo.
browser-deps: ## Install Chromium for the browser tests when /usr/bin/chromium is missing
	@test -x /usr/bin/chromium || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

checkov: $(CHECKOV_BIN)/checkov ## checkov over all Terraform: 0 failed checks, skips inline only
	$(CHECKOV_BIN)/checkov --directory terraform --framework terraform --skip-download --quiet --compact

test: lint tf-check checkov $(FLINK_VENV)/bin/python browser-deps ## Everything CI gates on: lint, tf-check, checkov, then the test suite
	$(BIN)/pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

unit: setup ## Only the fast tests (no emulator, no Spark, no Flink)
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

demo: setup ## The whole platform end to end on this machine
	$(BIN)/ecomm demo

# Every bench, the local stack started and stopped for those that need it; all results are
# reported before it fails on a missed target (bench/run_all.py).
bench: setup ## Benchmarks (figures go to docs/benchmarks.md); fails when a target is missed
	$(BIN)/python bench/run_all.py

clean: ## Remove virtual environments and local build output (the local lake stays)
	rm -rf $(VENV) $(CHECKOV_VENV) $(FLINK_VENV) .ecomm/build
