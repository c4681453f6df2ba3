# Two commands on a fresh machine: `make run` (the whole product) and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The address other machines (and providers' webhooks) use to reach this one: set it with HOST=0.0.0.0.
SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: install translations messages run test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed node_modules/.installed translations

# locale/*/LC_MESSAGES/*.po -> .mo, only those that changed (pure Python: polib, no gettext package).
translations: $(VENV)/.installed
	$(PY) manage.py compile_translations

# Refresh locale/ru's .po files from the source (needs GNU gettext: apt-get install gettext).
messages: $(VENV)/.installed
	$(PY) manage.py update_translations

run: install
	$(PY) manage.py migrate --noinput
	SITE_URL=$(SITE_URL) $(PY) manage.py demo --site-url $(SITE_URL)
	HOST=$(HOST) PORT=$(PORT) SITE_URL=$(SITE_URL) PRICE_SNAPSHOT_MINUTES=10 $(VENV)/bin/honcho start -f Procfile

test: install
	$(VENV)/bin/pytest

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf var
