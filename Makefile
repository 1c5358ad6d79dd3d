# The two commands: `make run` (demo: simulator -> collector -> local Forward receiver)
# and `make test` (everything the tests need, then lint, types and tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint typecheck pytest sanitize bench bench-micro deps deps-test clean

$(VENV)/.stamp: pyproject.toml collector/redact/_prefilter.c collector/redact/_prefilter_vec.h
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's prometheus and promtool: the real scraper the metrics tests run against.
.stamp-prometheus:
	@if ! command -v promtool >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	fi
	touch $@

# checkov (the k8s/Dockerfile policy linter) gets its own venv: it pulls ~80 packages and
# would downgrade some of ours.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.stamp:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q 'checkov==3.3.30'
	touch $@

deps: $(VENV)/.stamp node_modules/.stamp

deps-test: deps .stamp-prometheus $(CHECKOV_VENV)/.stamp

run: deps
	$(PY) -m collector.demo

lint: $(VENV)/.stamp
	$(VENV)/bin/ruff check collector tests benches tools
	$(VENV)/bin/ruff format --check collector tests benches tools

typecheck: $(VENV)/.stamp
	$(VENV)/bin/mypy

pytest: deps-test
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The C pre-scan's tests again, with the extension built under ASan + UBSan.
sanitize: $(VENV)/.stamp
	tools/sanitize_prescan.sh

test: deps-test lint typecheck pytest sanitize

bench-micro: deps
	$(PY) -m pytest benches -q --benchmark-only -p no:cacheprovider

bench: deps
	$(PY) -m benches.flood $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .stamp-prometheus .pytest_cache .mypy_cache .ruff_cache
