# orderflow: the command surface. Every target installs what it needs (pinned by uv.lock) first.
# `make` (or `make help`) lists the targets and variables. make reports any failing command as exit 2;
# for the command's own code (0 ok, 1 violation or broken invariant, 2 bad input) run `uv run orderflow ...`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

STACK ?= dev##        stack name: Pulumi.<STACK>.yaml (synth, audit, local, roles) or a deployed stack (smoke, stock)
OUT ?= build/$(STACK).json##  synth: the stack export to write; roles: the folder for the two policies
FILE ?= build/$(STACK).json## audit: the stack export to check (make synth, or pulumi stack export)
ORDERS ?= samples/orders.json## local: a JSON array, one execution input per element
INVENTORY ?= samples/inventory.json## local, stock: a JSON object sku -> stock (integer >= 0)
SUMMARY ?= build/summary.json## local, smoke: the summary JSON to write (pictures and worker.log beside it)
FAULTS ?=##          local: faults to inject, e.g. crash=0.2,duplicate=0.3,throttle=0.1,poison=7,stall=1
BENCH_OUT ?= build/bench.json## bench: the figures JSON to write
OUTPUTS ?=##         smoke, stock: a file with `pulumi stack output --json` (default: ask the Pulumi CLI)
DRY_RUN ?=##         stock: DRY_RUN=1 shows the changes without writing them

VARIABLES := STACK OUT FILE ORDERS INVENTORY SUMMARY FAULTS BENCH_OUT OUTPUTS DRY_RUN
# A variable given on the command line that this Makefile does not read is most likely a typo
# (`make local ORDER=...` would silently run the sample orders): say so, with the nearest name.
UNKNOWN := $(filter-out $(VARIABLES) MAKEFLAGS MFLAGS SHELL,$(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v))))
$(foreach v,$(UNKNOWN),$(warning warning: $(v) is not a variable of this Makefile$(shell python3 -c \
  'import difflib,sys; m=difflib.get_close_matches(sys.argv[1],sys.argv[2:],1,0.6); print(f" (did you mean {m[0]}?)" if m else "")' \
  $(v) $(VARIABLES)); it is ignored. Variables: $(VARIABLES)))

UV_VERSION := 0.13.9
TOOLS := $(CURDIR)/.tools
# uv from PATH (CI installs it with astral-sh/setup-uv), else a private copy under .tools/ (never the
# system Python: PEP 668), installed by scripts/bootstrap_uv.py.
UV := $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/bin/uv)
# The platform's certificate store, so a TLS-inspecting proxy's CA is trusted as it is by pip and git.
export UV_SYSTEM_CERTS ?= 1
ORDERFLOW := $(UV) run --frozen --no-sync orderflow
RUN := $(UV) run --frozen --no-sync

.PHONY: help setup test lint typecheck synth audit local bench roles smoke stock actionlint clean

help: ## list the targets and variables
	@echo "usage: make <target> [VARIABLE=value ...]"
	@echo
	@echo "targets:"
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## (.*)$$/\1|\2/' | \
	  awk -F'|' '{ printf "  %-11s %s\n", $$1, $$2 }'
	@echo
	@echo "variables (default):"
	@grep -E '^[A-Z_]+ \?=.*##' $(MAKEFILE_LIST) | sed -E 's/^([A-Z_]+) \?= ?([^#]*)## *(.*)$$/\1|\2|\3/' | \
	  awk -F'|' '{ d = ($$2 == "") ? "(empty)" : $$2; printf "  %-10s %-24s %s\n", $$1, d, $$3 }'
	@echo
	@echo "make exits 2 on any failure; for the command's own exit code (1 violation, 2 bad input)"
	@echo "run it directly: uv run orderflow <command> --help"

$(TOOLS)/bin/uv:
	python3 scripts/bootstrap_uv.py $(UV_VERSION) $(TOOLS)

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

test: setup node_modules/.installed lint typecheck actionlint ## lint, type-check, lint the workflows, run every test
	$(RUN) pytest -q -n 2 tests

lint: .venv/.synced ## ruff
	$(RUN) ruff check .

typecheck: .venv/.synced ## mypy
	$(RUN) mypy components handlers policy tools stack_config.py service.py __main__.py

actionlint: node_modules/.installed ## lint the GitHub workflows
	node scripts/actionlint.mjs .github/workflows/*.yml

synth: .venv/.synced ## write the stack export of STACK to OUT
	@mkdir -p $(dir $(OUT))
	$(ORDERFLOW) synth --stack $(STACK) --out $(OUT)

audit: .venv/.synced ## evaluate the policy pack on FILE; exit 1 on a blocking (mandatory or remediate) violation
	$(ORDERFLOW) audit $(FILE)

local: setup ## deploy STACK into the in-process emulator, run ORDERS against INVENTORY, write SUMMARY
	@mkdir -p $(dir $(SUMMARY))
	$(ORDERFLOW) local --stack $(STACK) --orders $(ORDERS) --inventory $(INVENTORY) \
	  --summary $(SUMMARY) $(if $(FAULTS),--faults "$(FAULTS)")

bench: setup ## measure against the tutorial's design, side by side (about 8 minutes); writes BENCH_OUT
	@mkdir -p $(dir $(BENCH_OUT))
	$(ORDERFLOW) bench --out $(BENCH_OUT)

# roles writes a folder: OUT, when given; else build/roles-<STACK> (OUT's default names a file).
ROLES_OUT = $(if $(filter file,$(origin OUT)),build/roles-$(STACK),$(OUT))
roles: .venv/.synced ## write OUT/preview-policy.json and OUT/deploy-policy.json, the CI roles' policies for STACK
	$(ORDERFLOW) roles --stack $(STACK) --out $(ROLES_OUT)

smoke: .venv/.synced ## run a few orders against the deployed STACK (AWS credentials), check invariants, write SUMMARY
	@mkdir -p $(dir $(SUMMARY))
	$(ORDERFLOW) smoke --stack $(STACK) --summary $(SUMMARY) $(if $(OUTPUTS),--outputs $(OUTPUTS))

stock: .venv/.synced ## set the deployed STACK's stock to INVENTORY (both required); DRY_RUN=1 only shows it
	@$(if $(filter command line,$(origin STACK)),,echo "error: make stock writes to a deployed table: give STACK=<stack> explicitly" >&2; exit 2)
	@$(if $(filter command line,$(origin INVENTORY)),,echo "error: make stock needs INVENTORY=<file> (a JSON object sku -> stock)" >&2; exit 2)
	$(ORDERFLOW) stock --stack $(STACK) --inventory $(INVENTORY) $(if $(OUTPUTS),--outputs $(OUTPUTS)) \
	  $(if $(filter-out 0,$(DRY_RUN)),--dry-run)

clean: ## remove build/, .venv/, node_modules/ and .tools/
	rm -rf build .venv node_modules .tools
