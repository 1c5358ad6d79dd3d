# The two commands: `make run` (demo: simulator -> collector -> local Forward receiver)
# and `make test` (everything the tests need, then lint, types and tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: lock run test check redact-fallbacks config-ref lint typecheck pytest sanitize bench bench-everyday bench-micro deps deps-test clean

# Installs come from requirements/dev.lock (exact versions with hashes), so a release made
# tomorrow changes nothing here; `make lock` refreshes the locks on purpose. The project itself
# is installed without build isolation: its build backend comes from the lock too.
$(VENV)/.stamp: pyproject.toml requirements/dev.lock collector/redact/_prefilter.c collector/redact/_prefilter_vec.h
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes --no-deps -r requirements/dev.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip check
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
$(CHECKOV_VENV)/.stamp: requirements/checkov.lock
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --require-hashes --no-deps -r requirements/checkov.lock
	touch $@

# Refresh the locks (a deliberate step: review the diff, then run `make test`). uv resolves;
# it runs from its own throwaway venv and is not a dependency of the project.
UV_VENV := .venv-uv
LOCK := $(UV_VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 --no-header
lock:
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install -q 'uv==0.13.9'
	$(LOCK) pyproject.toml -o requirements/runtime.lock
	$(LOCK) pyproject.toml requirements/build.in --extra test --extra bench -o requirements/dev.lock
	$(LOCK) requirements/checkov.in -o requirements/checkov.lock

deps: $(VENV)/.stamp node_modules/.stamp

deps-test: deps .stamp-prometheus $(CHECKOV_VENV)/.stamp

run: deps
	$(PY) -m tools.demo

lint: $(VENV)/.stamp
	$(VENV)/bin/ruff check collector tests benches tools
	$(VENV)/bin/ruff format --check collector tests benches tools

typecheck: $(VENV)/.stamp
	$(VENV)/bin/mypy

pytest: deps-test
	$(PY) -m pytest -q -p no:cacheprovider --durations=25 $(PYTEST_ARGS)

# The C pre-scan's tests again, with the extension built under ASan + UBSan.
sanitize: $(VENV)/.stamp
	tools/sanitize_prescan.sh

# The redaction tests again on the fallbacks: the C's byte loop (what ARM nodes run) and no
# C at all (a source install without a compiler walks every line).
redact-fallbacks: $(VENV)/.stamp
	COLLECTOR_PRESCAN=scalar $(PY) -m pytest -q -p no:cacheprovider tests/redact/test_leaks.py \
		tests/redact/test_differential.py tests/redact/test_prefilter.py
	COLLECTOR_PRESCAN=none $(PY) -m pytest -q -p no:cacheprovider tests/redact/test_leaks.py

test: deps-test lint typecheck pytest sanitize redact-fallbacks

# The quick loop while changing code: lint, types and the unit tests (no real peers, no
# slow tests) in about a minute; nothing is installed beyond the venv. `make test` is the gate.
check: lint typecheck
	$(PY) -m pytest -q -p no:cacheprovider -m "not integration and not slow" $(PYTEST_ARGS)

# The config reference (docs/config.md) is generated from the config Structs.
config-ref: $(VENV)/.stamp
	$(PY) -m tools.configref --write

bench-micro: deps
	$(PY) -m pytest benches -q --benchmark-only -p no:cacheprovider

bench: deps
	$(PY) -m benches.flood $(BENCH_ARGS)

# The everyday rates (idle, 20 ... 20,000 lines/s), side by side with Fluent Bit when found.
bench-everyday: deps
	$(PY) -m benches.everyday $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(UV_VENV) node_modules .stamp-prometheus .pytest_cache .mypy_cache .ruff_cache
