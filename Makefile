SHELL := /bin/bash
# auditlink — `make help` lists the targets.
VENV ?= .venv
PY := $(VENV)/bin/python
ALLOWLIST := tools/stubtest-allowlist.txt

.PHONY: help setup build status test test-rust test-python lint bench clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: $(VENV)/.ready ## create the venv with the pinned dev tools

$(VENV)/.ready: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

build: setup ## build the Rust extension (release) into the venv
	$(VENV)/bin/maturin develop --release -q

status: build ## print the kernel's audit status (like auditctl -s; needs root)
	$(PY) -m auditlink status

test: build test-rust test-python ## all tests: cargo test, then pytest

test-rust:
	cargo test

test-python: build
	$(PY) -m pytest tests

lint: build ## rustfmt, clippy, ruff, mypy --strict, stubtest, generated-file checks
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --all-targets --features python -- -D warnings
	$(VENV)/bin/ruff check python tests tools bench examples
	$(VENV)/bin/ruff format --check python tests tools bench examples
	$(VENV)/bin/mypy python/auditlink tests tools examples
	$(PY) -m mypy.stubtest auditlink._native --allowlist $(ALLOWLIST)
	$(PY) tools/gen_message_type.py --check

bench: build ## benchmarks, each against its reference in the same run (real kernel; state restored)
	$(PY) bench/status_roundtrip.py
	$(PY) bench/stream_bench.py
	$(PY) bench/rules/bench_load_rules.py
	$(PY) bench/records/bench.py

clean:
	rm -rf $(VENV) target
