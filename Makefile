# Jiaxiao Hub — two commands on a fresh machine with Python 3.11: `make run`, `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/jiaxiao
REDIS ?= redis://127.0.0.1:6379/0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run serve migrate seed test test-services lint audit audit-latest docs docs-check docs-examples ci clean bench soak reliability

$(BIN)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput -v 0

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "  家校通 Jiaxiao Hub is starting (embedded mode: SQLite, in-memory channels, console SMS)"
	@echo "  API        http://$(HOST):$(PORT)/api/v1/"
	@echo "  Swagger UI http://$(HOST):$(PORT)/api/docs/"
	@echo "  Admin      http://$(HOST):$(PORT)/admin/   (13800000000 / demo-pass-2026)"
	@echo "  WebSocket  ws://$(HOST):$(PORT)/ws/v1/events/"
	@echo "  Ctrl-C stops it."
	@echo ""
	@exec $(BIN)/daphne --ping-interval 40 -b $(HOST) -p $(PORT) backend.asgi:application

# The whole suite in the embedded default (SQLite in memory, in-memory channel layer).
test: install
	$(BIN)/pytest -n 2

# The same suite against PostgreSQL and Redis on loopback.
test-services: install
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) $(BIN)/pytest -n 2

# The API reference for the app teams, generated from the code (mobile_api_docs/).
docs: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file mobile_api_docs/openapi.yaml
	$(BIN)/python -m tools.asyncapi

# Fails when mobile_api_docs/openapi.yaml is not what the code generates.
docs-check: install
	@tmp=$$(mktemp); $(BIN)/python manage.py spectacular --validate --fail-on-warn --file $$tmp && \
	  if diff -u mobile_api_docs/openapi.yaml $$tmp > $$tmp.diff; then echo "mobile_api_docs/openapi.yaml is current"; \
	  else head -40 $$tmp.diff; echo "mobile_api_docs/openapi.yaml is stale: run 'make docs'"; exit 1; fi
	$(BIN)/python -m tools.asyncapi --check

# Runs mobile_api_docs/examples/quickstart.{sh,py} against a live server (temp SQLite, daphne on a free port).
docs-examples: install
	BIN=$(BIN) bash tools/run_examples.sh

# tests/reliability with its long runs (fuzzing every operation as four roles at 100
# examples each, 10,000 WebSocket frames) against PostgreSQL and Redis; CI runs the bounded part.
reliability: install
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) RELIABILITY_FULL=1 $(BIN)/pytest tests/reliability -p no:xdist -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy backend
	$(BIN)/mypy --strict sms_gateway
	$(BIN)/lint-imports

# Known vulnerabilities in the pinned dependencies (constraints.txt, the full freeze) from
# PyPI's advisory feed (AUDIT_SERVICE=osv for OSV). --strict: a package the feed does not
# answer for (offline, proxy, 404) fails the audit instead of being skipped silently.
AUDIT_SERVICE ?= pypi
audit: install
	$(BIN)/pip-audit --strict --no-deps --disable-pip --progress-spinner off \
	  --vulnerability-service $(AUDIT_SERVICE) -r constraints.txt

# Where only PyPI's project feed answers (no per-release JSON, no OSV): the pins that are
# their project's latest release are audited from it, the others named NOT AUDITED.
audit-latest: install
	$(BIN)/python -m tools.audit_latest constraints.txt

ci: test test-services lint docs-check

# Benchmarks against bare baselines (bench/README.md); PostgreSQL + Redis on loopback.
# `make bench QUICK=1` is the short version (under 2 minutes).
bench: install
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/jiaxiao_bench} \
	  REDIS_URL=$${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14} \
	  $(BIN)/python -m bench.run $(if $(QUICK),--quick)

# The 5-minute soak (1,000 idle sockets + 50 events/s); `make bench` runs it for 30 s.
soak: install
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/jiaxiao_bench} \
	  REDIS_URL=$${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14} BENCH_SOAK_SECONDS=$${BENCH_SOAK_SECONDS:-300} \
	  $(BIN)/python -m bench.run --only soak

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
