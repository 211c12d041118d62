"""Faults: the database goes away while the site is serving.

A real gunicorn serves the portal from a real PostgreSQL 15 started for this test alone (scripts/pg.sh),
so stopping it disturbs no other test running beside it. While the database is down every page and API
call answers 503 with the plain "temporarily unavailable" page (no stack trace, Retry-After); when the
database is back the same server process answers 200 again by itself, with no restart.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from bench.served import free_port, gunicorn, serving, stop
from tests.mfa import served_second_factor

ROOT = Path(__file__).resolve().parents[2]
PG_SH = ROOT / "scripts" / "pg.sh"
PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _skip_reason():
    if os.environ.get("PORTAL_TEST_DB") != "postgres":
        return "needs PostgreSQL: runs on the PostgreSQL pass of `make test` (PORTAL_TEST_DB=postgres)"
    if not (PGBIN / "initdb").exists():
        return f"PostgreSQL 15 server binaries not found in {PGBIN}"
    return ""


def skip_unless_postgres_servers():
    """Skip the test unless this is the PostgreSQL pass and pg.sh can start servers of its own."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)


def _env(database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings_test", DATABASE_URL=database_url, PYTHONDONTWRITEBYTECODE="1",
               LOG_LEVEL="WARNING")
    return env


@pytest.fixture
def served_portal():
    """(base url, pg folder, api token, requests session logged in) for a gunicorn on its own PostgreSQL."""
    skip_unless_postgres_servers()
    folder = tempfile.mkdtemp(prefix="portal-fault-pg.")
    server = None
    log = open(Path(folder + ".log"), "w")  # outside the folder: pg.sh stop deletes the folder
    try:
        url = subprocess.run(["bash", str(PG_SH), "start", folder], capture_output=True, text=True, check=True,
                             timeout=120).stdout.strip()
        env = _env(url)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True, capture_output=True,
                       timeout=300)
        token = subprocess.run(
            [*manage, "shell", "-c",
             "from tests.conftest import _person; from portal import services; "
             "from portal.choices import OrganisationKind as K, PortalRole as R; "
             "org = services.organisation_upsert(code='DCC', name='Data Communications Company', kind=K.DCC); "
             "user = _person('operator', org, R.DCC_OPERATIONS); "
             "from tests.mfa import seed_served_codes; seed_served_codes(user); "
             "print(services.api_token_get_or_create(user=user).key)"],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True, timeout=120,
        ).stdout.strip().splitlines()[-1]
        port = free_port()
        server = gunicorn(env, port, log)
        base = f"http://127.0.0.1:{port}"
        if not serving(base, server, seconds=60, request_timeout=5):
            raise RuntimeError("gunicorn did not start")
        session = requests.Session()
        page = session.get(base + "/accounts/login/", timeout=10)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = session.post(base + "/accounts/login/", timeout=10, allow_redirects=False,
                                data={"csrfmiddlewaretoken": csrf, "username": "operator",
                                      "password": "test-password-123"}, headers={"Referer": base + "/"})
        assert response.status_code == 302, "logging in failed"
        served_second_factor(session, base, "operator")
        yield base, folder, token, session
    finally:
        stop(server)
        log.close()
        subprocess.run(["bash", str(PG_SH), "stop", folder], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder + ".log").unlink(missing_ok=True)


def _calls(base, token, session):
    return {
        "dashboard page": lambda: session.get(base + "/", timeout=20, allow_redirects=False),
        "organisations page": lambda: session.get(base + "/organisations/", timeout=20, allow_redirects=False),
        "API list": lambda: requests.get(base + "/api/organisations/", timeout=20,
                                         headers={"Authorization": f"Token {token}"}),
    }


def test_database_outage_answers_503_and_the_site_recovers_by_itself(served_portal):
    base, folder, token, session = served_portal
    calls = _calls(base, token, session)
    for name, call in calls.items():
        assert call().status_code == 200, f"{name} before the outage"

    subprocess.run(["bash", str(PG_SH), "pause", folder], check=True, capture_output=True, timeout=60)
    try:
        for name, call in calls.items():
            response = call()
            assert response.status_code == 503, f"{name} during the outage answered {response.status_code}"
            assert response.headers.get("Retry-After") == "30", name
            assert "temporarily unavailable" in response.text, name
            for leak in ("Traceback", "File \"", "OperationalError", "psycopg", "/portal/", "settings"):
                assert leak not in response.text, f"{name}: the 503 page shows {leak!r}"
    finally:
        subprocess.run(["bash", str(PG_SH), "resume", folder], check=True, capture_output=True, timeout=60)

    # The same server process, not restarted: the first requests after the restart must succeed.
    for name, call in calls.items():
        response = call()
        assert response.status_code == 200, f"{name} after the database came back answered {response.status_code}"
    assert "Data Communications Company" in calls["organisations page"]().text
