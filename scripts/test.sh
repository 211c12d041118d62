#!/usr/bin/env bash
# make test: lint, migrations check, the suite on a throwaway PostgreSQL 15, then on SQLite.
# Any pytest arguments are passed on (e.g. scripts/test.sh tests/inventory -x).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export PYTHONDONTWRITEBYTECODE=1
echo "== ruff"; .venv/bin/ruff check .
echo "== migrations"; DATABASE_URL=sqlite:///:memory: $PY manage.py makemigrations --check --dry-run >/dev/null \
  || { echo "migrations are missing: run manage.py makemigrations"; exit 1; }

PGDIR=$(mktemp -d /tmp/portal-pg.XXXXXX)
cleanup() { scripts/pg.sh stop "$PGDIR" || true; }
trap cleanup EXIT
echo "== starting PostgreSQL 15 in $PGDIR"
export PORTAL_TEST_PGDIR="$PGDIR"
PG_URL=$(scripts/pg.sh start "$PGDIR")
mkdir -p test-output
WORKERS=${TEST_WORKERS:-2}
echo "== suite on PostgreSQL"
DATABASE_URL="$PG_URL" PORTAL_TEST_DB=postgres .venv/bin/pytest -n "$WORKERS" --dist loadfile "$@"
echo "== suite on SQLite"
DATABASE_URL="sqlite:///$(pwd)/var/test.sqlite3" PORTAL_TEST_DB=sqlite .venv/bin/pytest -n "$WORKERS" --dist loadfile "$@"
