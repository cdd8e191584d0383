# Accord: `make demo` runs the app with a demo portfolio; `make test` runs the whole check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ACCORD_PORT ?= 8000
export ACCORD_SMTP_PORT ?= 8025
DEMO_ACCOUNTS ?= 5000
export ACCORD_DATA_DIR ?= $(CURDIR)/var

.PHONY: install install-dev locale demo test check format lint types contracts unit integration functional spark clean

# Reinstall only when the dependency list or the lock file changed.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,spark]'
	touch $@

install: $(VENV)/.installed

# Compile the translations (src/accord/locale/*/LC_MESSAGES/django.po) with Babel,
# so no system gettext is needed; the .mo files are build output and not committed.
locale: $(VENV)/.installed
	@for po in src/accord/locale/*/LC_MESSAGES/django.po; do \
	  [ -e "$$po" ] || continue; \
	  $(BIN)/pybabel compile --statistics -i "$$po" -o "$${po%.po}.mo" >/dev/null || exit 1; \
	done

install-dev: $(VENV)/.installed-dev

demo: install locale
	ACCORD_DEMO=1 ACCORD_DEBUG=1 $(BIN)/accord migrate --no-input
	ACCORD_DEMO=1 ACCORD_DEBUG=1 $(BIN)/accord demo seed --accounts $(DEMO_ACCOUNTS) --seed 42
	ACCORD_DEMO=1 ACCORD_DEBUG=1 $(BIN)/accord demo users
	ACCORD_DEMO=1 ACCORD_DEBUG=1 $(BIN)/accord run
	@# One shell, so that the trap stops the mail sink and the worker when serve exits.
	@set -euo pipefail; export ACCORD_DEMO=1 ACCORD_DEBUG=1; \
	$(BIN)/accord mailsink --port $(ACCORD_SMTP_PORT) & sink=$$!; \
	$(BIN)/accord db_worker --no-reload & worker=$$!; \
	trap 'kill $$sink $$worker 2>/dev/null || true; wait 2>/dev/null || true' EXIT; \
	for _ in $$(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$(ACCORD_SMTP_PORT)) 2>/dev/null && break; sleep 0.1; done; \
	(exec 3<>/dev/tcp/127.0.0.1/$(ACCORD_SMTP_PORT)) 2>/dev/null || { echo "the mail sink did not start on port $(ACCORD_SMTP_PORT)" >&2; exit 1; }; \
	$(BIN)/accord dispatch; \
	$(BIN)/accord serve --port $(ACCORD_PORT)

test: install-dev locale check

check: format lint types contracts unit integration functional spark

format:
	$(BIN)/ruff format --check src tests benchmarks

lint:
	$(BIN)/ruff check src tests benchmarks

types:
	ACCORD_SECRET_KEY=type-checking-only $(BIN)/mypy

contracts:
	$(BIN)/lint-imports

unit:
	$(BIN)/pytest tests/unit -q -p no:cacheprovider -m "not spark"

# The integration suite runs on SQLite, then again on PostgreSQL when
# ACCORD_TEST_POSTGRES_URL names a server (.ci/run starts one); CI refuses to skip it.
integration:
	$(BIN)/pytest tests/integration -q -p no:cacheprovider -m "not postgres and not spark"
	@if [ -n "$$ACCORD_TEST_POSTGRES_URL" ]; then \
	  echo "== integration suite on PostgreSQL =="; \
	  ACCORD_DATABASE_URL="$$ACCORD_TEST_POSTGRES_URL" $(BIN)/pytest tests/integration -q -p no:cacheprovider -m "not spark and not sqlite"; \
	elif [ "$$CI" = "true" ]; then \
	  echo "CI=true but ACCORD_TEST_POSTGRES_URL is not set: the PostgreSQL run may not be skipped in CI" >&2; exit 1; \
	else \
	  echo "== PostgreSQL run skipped: set ACCORD_TEST_POSTGRES_URL (or use scripts/with-postgres make test) =="; \
	fi

functional:
	$(BIN)/pytest tests/functional -q -p no:cacheprovider -m "not spark"

# The engine parity tests on Spark (a JVM start-up is slow): their own step, needing Java 17.
spark:
	$(BIN)/pytest tests -q -p no:cacheprovider -m spark

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
