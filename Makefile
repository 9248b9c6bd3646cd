# Two commands matter: `make run` and `make test`. Everything else is what they call.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROJECTS := shared services/intake services/dispatch services/sla-monitor services/assets services/reporting services/knowledge services/console tools/devstack
PYPROJECTS := $(addsuffix /pyproject.toml,$(PROJECTS))

.PHONY: install fonts console-assets browser run test lint test-unit test-integration test-e2e test-faults bench bench-sla schemas database clean

$(STAMP): constraints.txt requirements-dev.txt $(PYPROJECTS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "opsdesk needs Python 3.11+"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "opsdesk: installing Python packages into $(VENV) (pinned by constraints.txt)..."
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt $(addprefix -e ,$(PROJECTS))
	@touch $(STAMP)

install: $(STAMP) database fonts console-assets

# The console's JavaScript (htmx; axe-core for the browser tests) from the npm registry, pinned by its lock file, copied
# into the console's static dir (served by the app; nothing from a CDN or at run time); its Babel catalogues compiled.
CONSOLE := services/console
$(CONSOLE)/console/static/vendor/htmx.min.js: $(CONSOLE)/package-lock.json
	@command -v npm >/dev/null || { echo "opsdesk: installing npm (Debian package) for the console's JavaScript..."; \
		apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
	@cd $(CONSOLE) && npm ci --no-audit --no-fund --silent
	@mkdir -p $(CONSOLE)/console/static/vendor
	@cp $(CONSOLE)/node_modules/htmx.org/dist/htmx.min.js $@
console-assets: $(STAMP) $(CONSOLE)/console/static/vendor/htmx.min.js
	@$(VENV)/bin/pybabel -q compile -d $(CONSOLE)/console/locale -D messages

# The browser tests drive Debian's chromium (never `playwright install`, which downloads a browser).
browser:
	@command -v chromium >/dev/null || { echo "opsdesk: installing chromium (Debian package) for the browser tests..."; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# Reports and printed forms are in Chinese: a CJK TrueType font (Debian's fonts-wqy-zenhei) must be on the machine.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
fonts:
	@test -f $(CJK_FONT) || { echo "opsdesk: installing the CJK font fonts-wqy-zenhei (Debian package)..."; \
		apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei >/dev/null; }
	@# The report test draws every page of a monthly summary with poppler's pdftoppm and reads it with pdftotext.
	@command -v pdftoppm >/dev/null || { echo "opsdesk: installing poppler-utils (pdftoppm, pdftotext)..."; \
		apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; }

# Builds FerretDB once into ~/.cache/opsdesk unless MONGODB_URL is set or mongod is on PATH.
database:
	@if [ -z "$$MONGODB_URL" ] && ! command -v mongod >/dev/null; then bash scripts/build-ferretdb.sh >/dev/null; fi

run: install
	@$(PY) -m opsdesk_devstack run

PACKAGES := shared/opsdesk_shared services/intake/intake services/dispatch/dispatch services/sla-monitor/sla_monitor \
	services/assets/assets services/reporting/reporting services/knowledge/knowledge services/console/console tools/devstack/opsdesk_devstack

# Static checks run first: a type error fails the suite like a failing test.
lint: install
	@$(VENV)/bin/ruff check shared services tools tests bench scripts
	@$(VENV)/bin/mypy $(PACKAGES)

# The tests that start whole stacks (six services, NATS and the database as processes) run one stack at a time, after
# the rest; every other test runs on both cores (pytest-xdist), each worker with its own database server.
STACK_TESTS := tests/e2e tests/journeys tests/browser tests/security tests/faults

test: install lint browser
	@# Both workers must collect the same tests: some parameters come from sets, so they share one hash seed (a new
	@# one each run unless given, printed to run a failure again).
	@seed=$${PYTHONHASHSEED:-$$RANDOM}; echo "opsdesk: PYTHONHASHSEED=$$seed"; \
		PYTHONHASHSEED=$$seed $(PY) -m pytest -n 2 $(addprefix --ignore=,$(STACK_TESTS)); first=$$?; \
		$(PY) -m pytest $(STACK_TESTS); second=$$?; exit $$(( first || second ))

test-unit: install
	@$(PY) -m pytest -m "not integration and not e2e"

test-integration: install
	@$(PY) -m pytest -m integration

test-e2e: install browser
	@$(PY) -m pytest -m "e2e and not faults_long"

# Issue 14's long fault campaign (3-4 minutes): every service, NATS and the database killed in turn under load.
test-faults: install
	@$(PY) -m pytest -m faults_long -s tests/faults

bench: install
	@command -v wrk >/dev/null || { echo "opsdesk: installing wrk (Debian package) for the load generator..."; \
		apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	@$(PY) bench/intake_load.py

# A million open SLA timers: start-up time, memory and breach lateness (about five minutes).
bench-sla: install
	@$(PY) bench/sla_timers.py

schemas: install
	@$(PY) scripts/export_schemas.py

clean:
	rm -rf var
