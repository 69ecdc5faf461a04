# Sanlian: entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
BIN := $(VENV)/bin

PACKAGES := shared/eventspine shared/contracts shared/servicekit shared/compliance shared/escalation shared/access shared/topology services/audit/audit services/roster/roster services/contacts/contacts \
            services/feedback/feedback services/reports/reports services/web/web bench
TEST_DIRS := $(wildcard shared/tests services/*/tests)

.PHONY: help install messages run demo stack stack-down admin bench-quick lint format schemas test test-unit test-integration test-faults test-cluster bench up down clean

HOST ?= 127.0.0.1
PORT ?= 8000

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

WEB_ASSETS := services/web/node_modules/.package-lock.json

# The frontend's third-party assets (htmx) come from npm at the versions package-lock.json pins.
$(WEB_ASSETS): services/web/package.json services/web/package-lock.json
	npm ci --prefix services/web --no-audit --no-fund --loglevel=error
	@touch $@

SPEC_SCHEMAS := deploy/spec/node_modules/.package-lock.json

# The AsyncAPI specification's JSON Schemas (the tests validate schemas/asyncapi.json with them).
$(SPEC_SCHEMAS): deploy/spec/package.json deploy/spec/package-lock.json
	npm ci --prefix deploy/spec --no-audit --no-fund --loglevel=error
	@touch $@

API_DOCS := shared/apidocs/node_modules/.package-lock.json

# Swagger UI for every service's /docs page (served by the service, not from a CDN).
$(API_DOCS): shared/apidocs/package.json shared/apidocs/package-lock.json
	npm ci --prefix shared/apidocs --no-audit --no-fund --loglevel=error
	@touch $@

PAPER_LIBS := $(VENV)/.papers

# What WeasyPrint needs from Debian for the frontend's PDF papers: Pango, HarfBuzz, a CJK font.
$(PAPER_LIBS): deploy/local/papers.sh $(VENV)/.synced
	deploy/local/papers.sh
	@touch $@

install: $(VENV)/.synced $(WEB_ASSETS) $(SPEC_SCHEMAS) $(API_DOCS) $(PAPER_LIBS) ## create .venv with the locked dependencies, the frontend's assets, Swagger UI, the spec schemas and the papers' system libraries

messages: install ## extract the frontend's messages; update its catalogues (then translate the new ones)
	cd services/web && ../../$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
	  --project Sanlian --version 1 -o web/frontend/locale/messages.pot .
	cd services/web && ../../$(BIN)/pybabel update -i web/frontend/locale/messages.pot \
	  -d web/frontend/locale -l zh_CN --no-fuzzy-matching --ignore-obsolete --width 100

run: install ## the embedded default: every service in one process on SQLite (var/), no Kafka
	SANLIAN_STORE_BACKEND=sqlite SANLIAN_SQLITE_DIR=$${SANLIAN_SQLITE_DIR:-var} $(BIN)/sanlian-access ensure-admin
	SANLIAN_STORE_BACKEND=sqlite SANLIAN_SQLITE_DIR=$${SANLIAN_SQLITE_DIR:-var} \
	  $(BIN)/uvicorn --factory web.embedded:create_app --host $(HOST) --port $(PORT)

demo: install ## make run with a generated demo city (10/59/300/3,000, a year of contacts) in var/demo
	$(BIN)/python -m web.demo --dir var/demo
	SANLIAN_STORE_BACKEND=sqlite SANLIAN_SQLITE_DIR=var/demo $(BIN)/sanlian-access ensure-admin
	SANLIAN_STORE_BACKEND=sqlite SANLIAN_SQLITE_DIR=var/demo \
	  $(BIN)/uvicorn --factory web.embedded:create_app --host $(HOST) --port $(PORT)

INSTANCES ?= 1

stack: install ## the full topology without Docker: PostgreSQL, Kafka, each service and relay a process (Ctrl-C stops); INSTANCES=N: N of each HTTP service behind HAProxy
	$(BIN)/sanlian-stack up --instances $(INSTANCES)

ADMIN ?= admin

admin: install ## an admin account for the full topology (make stack's settings; asks the password); ADMIN=<username>
	$(BIN)/sanlian-stack create-admin --username $(ADMIN)

stack-down: ## stop what make stack started, from another terminal (PostgreSQL and Kafka keep running)
	$(BIN)/sanlian-stack down

lint: install ## ruff, formatting, mypy (strict), the import contract (floors) and the committed event schemas
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PACKAGES)
	@# one run per test tree: each has its own conftest.py, which mypy cannot see twice
	@for dir in $(TEST_DIRS); do \
	  if [ -n "$$(find $$dir -name '*.py' -print -quit)" ]; then \
	    echo "mypy $$dir"; $(BIN)/mypy $$dir || exit 1; fi; done
	$(BIN)/mypy conftest.py
	$(BIN)/lint-imports
	$(BIN)/python -m servicekit schemas check
	$(BIN)/sanlian-stack compose --check
	$(BIN)/sanlian-stack compose --cluster --check

format: install ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schemas: install ## regenerate schemas/events from the event models
	$(BIN)/python -m servicekit schemas generate

test: install ## the whole suite on real PostgreSQL and Kafka (provisioned if absent)
	$(BIN)/pytest

test-unit: install ## unit tests only (no infrastructure)
	$(BIN)/pytest shared/tests/unit $(wildcard services/*/tests/unit)

test-integration: install ## integration and contract tests (real PostgreSQL and Kafka)
	$(BIN)/pytest -m integration

test-faults: install ## the fault tier at 50 commands/s (about 9 min): broker outage, database restart, kill -9 loop, hostile input
	$(BIN)/pytest -m faults shared/tests/faults

test-cluster: install ## the fault tier at load (about 8 min): a three-broker cluster, two instances behind HAProxy, broker/controller/instance/relay kills
	$(BIN)/pytest -m cluster shared/tests/faults

VEGETA := $(TOOLS)/bin/vegeta

# The benchmarks' open-loop HTTP load generator, built from the Go module proxy at a pinned version.
$(VEGETA): deploy/local/vegeta.sh
	deploy/local/vegeta.sh >/dev/null

bench: install $(VEGETA) ## every benchmark against its raw baseline in one run (about 22 min on two cores, the 10M-event replay included); rows alone: python -m bench --rows 5,7
	$(BIN)/python -m bench

bench-quick: install $(VEGETA) ## the same rows on small workloads (about 3 min)
	$(BIN)/python -m bench --quick

up: ## start local PostgreSQL and Kafka (no Docker needed); prints their addresses
	deploy/local/up.sh

down: ## stop local PostgreSQL and Kafka
	deploy/local/down.sh

clean: ## remove the virtual environments and local state
	rm -rf $(VENV) $(TOOLS) .local .pytest_cache .mypy_cache .ruff_cache
