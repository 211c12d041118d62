# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv demo bench e2e gates load lint clean cluster-test fuzz

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)/.installed

demo: venv
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_schedules
	$(PY) manage.py load_demo

# Start the portal on SQLite with demo data, the web server and the django-q2 clusters (the main
# one, "urgent" for single service requests, "hooks" for webhooks). scripts/run.py prints the URL
# once the server answers and stops them all within 10 s on Ctrl-C or SIGTERM (why a script: its
# docstring).
run: demo
	@$(PY) scripts/run.py --host $(HOST) --port $(PORT)

test: venv
	scripts/test.sh

# The portal on real hosts (network namespaces: db, replica, two workers, web) with faults, a batch
# of 100,000 requests; results in bench/results/cluster.json. Needs root (ip netns).
cluster-test: venv
	scripts/cluster_test.sh run

# Quality gates alone (SQLite; `make test` runs them on both databases, the journeys on PostgreSQL).
e2e: venv
	$(VENV)/bin/pytest tests/e2e -rs

gates: venv
	$(VENV)/bin/pytest tests/gates -rs

# The API fuzz gate at nightly depth on a throwaway PostgreSQL: 200 generated requests per operation and a
# longer stateful run, as a DCC operator and as a supplier (make test runs it at 20 per operation).
fuzz: venv
	@PGDIR=$$(mktemp -d /tmp/portal-pg.XXXXXX); trap 'scripts/pg.sh stop "$$PGDIR"' EXIT; \
	PG_URL=$$(scripts/pg.sh start "$$PGDIR"); \
	API_FUZZ_EXAMPLES=$${API_FUZZ_EXAMPLES:-200} API_FUZZ_SCENARIOS=$${API_FUZZ_SCENARIOS:-100} \
	API_FUZZ_STEPS=$${API_FUZZ_STEPS:-10} DATABASE_URL="$$PG_URL" PORTAL_TEST_DB=postgres \
	PORTAL_TEST_PGDIR="$$PGDIR" $(VENV)/bin/pytest -p no:xdist -rs tests/gates/test_api_fuzz.py \
	tests/gates/test_api_fuzz_supplier.py

# 30 concurrent clients for 30 s against a local server on demo data; figures in bench/results/load.json.
load: venv
	$(PY) bench/load.py

lint: venv
	$(VENV)/bin/ruff check .

bench: venv
	$(PY) -m bench $(if $(SCALE),--scale $(SCALE))

clean:
	rm -rf $(VENV) var test-output
