# The README's words as targets. Every target sets up what it needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint typecheck bench eval ingest stress clean browser audit train

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned, so nothing resolves to a multi-GB CUDA build.
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	# Every transitive package pinned too (constraints.txt), so a fresh machine gets what was tested.
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null; }

ingest: $(STAMP)
	$(PY) -m ingest

run: $(STAMP)
	$(PY) -m ingest
	$(PY) app.py

test: $(STAMP) browser
	# Fails on a dependency advisory nobody has accepted; only warns when the index is unreachable.
	$(PY) -m security --allow-offline
	$(PY) -m pytest -q -m "not slow" --timeout=600

# The dependency audit alone, strict (exit 3 when the index is unreachable), refreshing its doc.
audit: $(STAMP)
	$(PY) -m security --report docs/dependency-audit.md

lint: $(STAMP)
	$(PY) -m ruff check bot ingest web benchmarks security tests app.py
	$(PY) -m ruff format --check bot ingest web benchmarks security tests app.py
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) -m ingest
	$(PY) -m benchmarks.bench

# Refit the crisis classifier on eval/safety_train/ (writes bot/models/crisis_head.*).
train: $(STAMP)
	$(PY) -m benchmarks.train_crisis
	$(PY) -m benchmarks.train_advice

eval: $(STAMP)
	$(PY) -m ingest
	$(PY) -m benchmarks.evaluate

stress: $(STAMP) browser
	$(PY) -m pytest -q -m slow --timeout=1800 tests
	PAINBOT_FUZZ_SCALE=40 $(PY) -m pytest -q --timeout=3600 tests/reliability/test_api_fuzz.py

clean:
	rm -rf .painbot $(VENV)
