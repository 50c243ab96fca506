# The two commands a fresh clone needs: `make run` and `make test`. Everything else is set up on demand.
SHELL := /bin/bash
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# sam build needs the Lambda runtime's Python (3.13) on PATH. pyenv's shim for it fails unless 3.13 is
# the selected version, so a pyenv install is looked for first.
PY313_DIR := $(shell dirname "$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | tail -n 1 | grep . || command -v python3.13)")
# The app's venv uses that Python too (what the handlers run on in Lambda, what mypy checks against); without
# one, any python3 >= 3.11 (pyproject's requires-python) does, with a note. An existing venv is kept as it is.
# `make VENV_PYTHON=... VENV=...` overrides; the sam and checkov venvs use $(PYTHON).
PYTHON ?= python3
VENV_PYTHON ?= $(if $(wildcard $(PY313_DIR)/python3.13),$(PY313_DIR)/python3.13,$(PYTHON))
VENV ?= .venv
PY := $(VENV)/bin/python
export SAM_CLI_TELEMETRY := 0

.PHONY: install run test unit integration e2e check lint lint-imports typecheck format invoke clean

install: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed

$(VENV)/.installed: requirements-dev.txt layers/onair/requirements.txt pyproject.toml
	@test -x $(PY) || $(VENV_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "$(VENV_PYTHON) is older than 3.11: make VENV_PYTHON=python3.13"; exit 1; }
	@test -x $(PY) || $(VENV_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
	  || echo "note: $(VENV) gets $$($(VENV_PYTHON) -V), not the Lambda runtime's 3.13 (pyenv install 3.13)"
	test -x $(PY) || $(VENV_PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check -e .  # the `onair` command (cli/)
	touch $@

# aws-sam-cli pins its own pydantic and boto3, so it lives in a venv of its own.
$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-sam.txt
	touch $@

# checkov pins dozens of libraries of its own (some against aws-sam-cli's): a venv of its own as well.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-checkov.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m local

test: install lint typecheck check
	$(PY) -m pytest

unit integration e2e: $(VENV)/.installed
	$(PY) -m pytest tests/$@

# cfn-lint (through sam validate --lint) and checkov on template.yaml: zero failures; each checkov skip is
# justified next to it in the template. --skip-download keeps checkov offline.
check: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed
	$(SAM) validate --lint
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --quiet --compact
	PATH="$(PY313_DIR):$$PATH" $(SAM) build --build-dir .aws-sam/build --cache-dir .aws-sam/cache

lint: $(VENV)/.installed lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The import-linter contracts of pyproject.toml: the layering of layers/onair/onair (docs/ARCHITECTURE.md).
lint-imports: $(VENV)/.installed
	PYTHONPATH=layers/onair $(VENV)/bin/lint-imports

# mypy --strict with the pydantic plugin ([tool.mypy] of pyproject.toml) over the layer, local/, cli/ and the
# handlers. Every handler is a top-level `app` module, so each gets a run of its own (the cache makes the
# repeats cheap): one run with all five would be a duplicate-module error.
TYPECHECK_PATHS := layers/onair/onair local cli/onair_cli
typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy $(TYPECHECK_PATHS)
	@set -e; for app in functions/*/app.py; do echo "mypy $$app"; $(VENV)/bin/mypy $$app; done

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Runs a handler in-process with an event file, as `sam local invoke` would in a container:
#   make invoke FN=ApiFunction EVENT=events/api-import-schedule.json
invoke: $(VENV)/.installed
	$(PY) -m local.invoke $(FN) $(EVENT)

# Importer speed and memory against xmllint, rejection times of ../shared's hostile files, playout, XMLTV
# scaling, each function's cold start against the boto3 floor, a run, the memory of a large upload and of
# ImportFunction and RunFunction through their handlers
# (docs/PERFORMANCE.md; ratios, never tests):
#   make bench BENCH_ARGS="--profile --output /tmp/bench.md"
.PHONY: bench
bench: $(VENV)/.installed
	$(PY) -m bench.import_bench $(BENCH_ARGS)
	$(PY) -m bench.playout_bench
	$(PY) -m bench.xmltv_scaling
	$(PY) -m bench.cold_start
	$(PY) -m bench.run_bench
	$(PY) -m bench.upload_bench
	$(PY) -m bench.function_rss

# The console (functions/api/console/, docs/PERFORMANCE.md "Console"): the EPG grid of 150 channels x 24 h
# in headless Chromium on the local stack's /console/ (--page: also a real published run, read and drawn
# by the guide page), and the screenshot in docs/ (synthetic data drawn by the console's own guide).
.PHONY: bench-console screenshots
bench-console: $(VENV)/.installed
	$(PY) -m bench.console_bench $(BENCH_ARGS)

screenshots: $(VENV)/.installed
	$(PY) -m bench.console_bench --screenshot docs/console-grid.png

# docs/openapi.json from the routes Powertools documents (tests/integration/test_openapi.py checks it is current)
.PHONY: openapi
openapi: $(VENV)/.installed
	PYTHONPATH=layers/onair $(PY) -m onair.http.openapi docs/openapi.json

# Load tests (loadtest/, docs/PERFORMANCE.md "Load"). Without URL they start the local stack on free ports.
#   make load                                  Locust, closed model: 100 -> 500 -> 1000 users, LOAD_SECONDS each
#   make load LOAD_ARGS="--users 500"          one fixed level; make load URL=https://... a deployed stack
#   make load-paced                            the old app's pacing: think 1-3 s, 100 -> 250 -> 500 -> 750 -> 1000 users (the knee)
#   make load-artillery ARRIVAL_RATE=20        Artillery (npx), open model: new users a second for LOAD_SECONDS
#   make redrive QUEUE=jobs|imports            dead letters back to their queue (the running make run)
.PHONY: load load-paced load-artillery redrive
LOAD_SECONDS ?= 60
ARRIVAL_RATE ?= 10
load: $(VENV)/.installed
	$(PY) -m loadtest.run locust --seconds $(LOAD_SECONDS) $(if $(URL),--url $(URL)) $(LOAD_ARGS)

load-paced: $(VENV)/.installed
	$(PY) -m loadtest.run locust --think 1 3 --stages 100,250,500,750,1000 --seconds $(LOAD_SECONDS) $(if $(URL),--url $(URL)) $(LOAD_ARGS)

load-artillery: $(VENV)/.installed
	$(PY) -m loadtest.run artillery --seconds $(LOAD_SECONDS) --rate $(ARRIVAL_RATE) $(if $(URL),--url $(URL)) $(LOAD_ARGS)

redrive: $(VENV)/.installed
	$(PY) -m local.redrive $(QUEUE) $(REDRIVE_ARGS)

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .mypy_cache
