# Tandem — developer commands. `make run` and `make test` work on a fresh clone: they make .venv themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Django 6 needs Python >= 3.12: take the first interpreter on this machine that is new enough.
PYTHON ?= $(shell for p in python3.13 python3.12 python3 /root/.pyenv/versions/3.13*/bin/python3 /root/.pyenv/versions/3.12*/bin/python3 /usr/local/bin/python3.1[2-9]; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)

.PHONY: help venv run test lint format types check bench e2e migrate seed shell clean-local

help:
	@echo "make run    start the whole product (web, worker, beat) with demo data at http://127.0.0.1:$(PORT)/"
	@echo "make test   run the test suite against PostgreSQL (embedded unless DATABASE_URL is set)"
	@echo "make check  lint + types + tests;  make bench  benchmarks;  make e2e  browser journeys"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required (set PYTHON=/path/to/python3.12)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

run: venv
	@mkdir -p .local
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" DJANGO_DEBUG=true PORT=$(PORT) STRIPE_STANDIN_WEBHOOK_URL=http://127.0.0.1:$(PORT)/billing/stripe/webhook/ $(PY) -m core.embedded run --profile dev -- bash -c '\
		set -e; \
		$(PY) manage.py migrate --noinput; \
		$(PY) manage.py seed_demo; \
		echo; echo "  Tandem is starting at http://127.0.0.1:$(PORT)/   (admin: http://127.0.0.1:$(PORT)/admin/)"; \
		echo "  Demo logins are listed above. Ctrl-C stops web, worker, beat and the embedded services."; echo; \
		exec $(VENV)/bin/honcho start --port $(PORT)'

# The browser journeys need Debian's Chromium (.ci/run installs it). Without it a developer gets a note; CI fails.
CHROMIUM ?= /usr/bin/chromium

test: venv
	$(VENV)/bin/pytest
	@if [ -x "$(CHROMIUM)" ]; then \
		$(MAKE) --no-print-directory e2e; \
	elif [ "$$CI" = "true" ]; then \
		echo "make test: Chromium is missing at $(CHROMIUM); CI must run the browser journeys (apt-get install chromium)." >&2; \
		exit 1; \
	else \
		echo "make test: note: browser journeys (tests/e2e) skipped, no Chromium at $(CHROMIUM); apt-get install chromium to run them."; \
	fi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

types: venv
	DJANGO_SECRET_KEY=typecheck DATABASE_URL=postgres://typecheck@localhost/typecheck REDIS_URL=redis://localhost:6379/0 \
		$(VENV)/bin/mypy .

check: lint types test

bench: venv
	$(VENV)/bin/pytest tests/perf -p no:randomly -o addopts="" -s -m perf

e2e: venv
	E2E_CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest tests/e2e -o addopts="-ra --strict-markers" -m e2e

migrate: venv
	DJANGO_DEBUG=true $(PY) manage.py migrate

seed: venv
	DJANGO_DEBUG=true $(PY) manage.py seed_demo

shell: venv
	DJANGO_DEBUG=true $(PY) manage.py shell

clean-local:
	rm -rf .local
