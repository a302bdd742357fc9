# Every target installs what it needs into .venv on first use, so on a fresh
# machine `make test` (or `make experiments`) alone is enough.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: experiments mutate test lint bench clean format rehearse portmode

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# Three meshes side by side, one per xdist worker: the load windows mostly wait on the
# faults' timers, so three fit on two cores and leave every verdict as it was
# (BENCHMARKS.md). EXPERIMENT_WORKERS=0 runs one mesh, one experiment after another.
EXPERIMENT_WORKERS ?= 3

experiments: $(STAMP)
	$(PY) -m pytest experiments/ -n $(EXPERIMENT_WORKERS)

# The suite through the cluster backend against an embedded mesh, verdicts compared with the
# local suite's (LOCAL_RESULTS=path/results.json reuses a local run instead of making one).
rehearse: $(STAMP)
	$(PY) -m tests.rehearsal $(if $(LOCAL_RESULTS),--local-results $(LOCAL_RESULTS))

# The embedded mesh where only 127.0.0.1 binds (a Mac's loopback, in a network namespace):
# the e2e core, and the Bookinfo experiments' verdicts against ip mode. Needs root; skips
# with the reason elsewhere.
portmode: $(STAMP)
	$(PY) -m pytest tests/portmode/netns_suite.py

mutate: $(STAMP)
	$(VENV)/bin/chaoskit mutate experiments/

test: $(STAMP)
	$(PY) -m pytest tests/

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get install -y -q nginx-light >/dev/null 2>&1 || echo "nginx not installed: the nginx reference column will be empty")
	$(PY) -m pytest benchmarks/test_regression.py  # first, on a machine not yet loaded by the others
	$(PY) -m benchmarks
	$(PY) -m benchmarks.loadgen_locust
	$(PY) -m benchmarks.scale  # 25..200 pods and a 10-minute soak; --soak-seconds to shorten
	$(PY) -m benchmarks.api_tls
	$(PY) -m benchmarks.address_modes  # ip and port mode in the same run

clean:
	rm -rf $(VENV) reports/*/ .mypy_cache .ruff_cache
