# Footfall: `make run` starts the product, `make test` runs the whole test suite.
# Both work from a fresh clone with no input: they create .venv and install everything.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Tests run against real PostgreSQL and Redis (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/footfall
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run test lint format geoip services migrate demo snippet

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Rebuild static/js/footfall*.js from static/js/src (npm ci + esbuild); commit the result.
snippet:
	./scripts/build_snippet.sh

geoip: $(STAMP)
	$(PY) scripts/install_geoip.py || echo "GeoIP database not installed: locations fall back to time zone and language."

run: $(STAMP)
	./scripts/run.sh

test: $(STAMP)
	./scripts/ensure_services.sh
	./scripts/ensure_browser.sh
	./scripts/ensure_node_modules.sh
	-$(PY) scripts/install_geoip.py
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SECRET_KEY=test-secret-key DEBUG=false \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
