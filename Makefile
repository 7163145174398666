SHELL := /bin/bash
# auditlink — `make help` lists the targets.
VENV ?= .venv
PY := $(VENV)/bin/python
ALLOWLIST := tools/stubtest-allowlist.txt

.PHONY: help deps setup build status test test-rust test-python lint bench wheel docs man clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# The reference peers the tests compare against (Debian packages).
DEB_PACKAGES := auditd python3-audit libaudit-dev libauparse-dev strace gcc

deps: ## install the reference peers (auditctl, python3-audit, libaudit, ...) if missing
	@if command -v auditctl >/dev/null && /usr/bin/python3 -c 'import audit' 2>/dev/null \
	    && [ -e /usr/include/libaudit.h ] && [ -e /usr/include/auparse.h ] \
	    && command -v strace >/dev/null && command -v gcc >/dev/null; then \
	    echo "reference peers present: $$(auditctl -v)"; \
	else \
	    echo "installing $(DEB_PACKAGES)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
	fi

setup: $(VENV)/.ready ## create the venv with the pinned dev tools

$(VENV)/.ready: requirements-dev.txt requirements-test.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(VENV)/.release-ready: requirements-release.txt $(VENV)/.ready
	$(PY) -m pip install -q -r requirements-release.txt
	touch $@

$(VENV)/.docs-ready: requirements-docs.txt $(VENV)/.ready
	$(PY) -m pip install -q -r requirements-docs.txt
	touch $@

build: setup ## build the Rust extension (release) into the venv
	$(VENV)/bin/maturin develop --release -q

status: build ## print the kernel's audit status (like auditctl -s; needs root)
	$(PY) -m auditlink status

test: deps build test-rust test-python ## all tests: cargo test, then pytest (installs the peers first)

test-rust:
	cargo test

test-python: build
	$(PY) -m pytest tests

lint: build $(VENV)/.docs-ready ## rustfmt, clippy, ruff, mypy --strict, stubtest, stub docs, generated-file checks
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --all-targets --features python -- -D warnings
	$(VENV)/bin/ruff check python tests tools bench examples
	$(VENV)/bin/ruff format --check python tests tools bench examples
	$(VENV)/bin/mypy python/auditlink tests tools examples
	$(PY) -m mypy.stubtest auditlink._native --allowlist $(ALLOWLIST)
	$(PY) tools/check_stub_docs.py
	$(PY) tools/gen_message_type.py --check
	$(PY) tools/gen_exports.py --check
	$(PY) tools/gen_man.py --check

bench: build ## benchmarks, each against its reference in the same run (real kernel; state restored)
	$(PY) bench/status_roundtrip.py
	$(PY) bench/stream_bench.py
	$(PY) bench/rules/bench_load_rules.py
	$(PY) bench/daemon_bench.py
	$(PY) bench/records/bench.py
	$(PY) bench/normalize/bench.py
	$(PY) bench/enrich/bench.py

# zig (PyPI's ziglang, found on PATH through the venv) links against glibc 2.17.
wheel: $(VENV)/.release-ready ## the manylinux2014 abi3 wheel and the sdist into dist/, checked
	rm -rf dist
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/maturin build --release --strip --zig \
	    --compatibility manylinux2014 -o dist -q
	$(VENV)/bin/maturin sdist -o dist
	$(PY) tools/check_dist.py dist

docs: build $(VENV)/.docs-ready ## the documentation site into build/site (strict: a warning or broken link fails)
	$(VENV)/bin/mkdocs build --strict

man: build ## regenerate the man pages (python/auditlink/share/man) from the argparse parsers
	$(PY) tools/gen_man.py

clean:
	rm -rf $(VENV) target build dist
