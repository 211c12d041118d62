"""The read replica, real: a PostgreSQL 15 primary and a streaming replica made from it with
pg_basebackup (scripts/pg.sh start / replica), both logging every statement, and a gunicorn
serving the portal with DATABASE_URL on the primary and DATABASE_REPLICA_URL on the replica.

Which server answered a query is read from the servers' own statement logs: each page is asked for
a word that appears nowhere else, so the log that holds the word is the server that ran the read.
* the search page (reading work) reads the replica; the organisation list (not) reads the primary;
* inside reading_from_replica() a write goes to the primary (the replica is read-only: a write
  there would fail) and the reads after it too (read your own writes);
* replay paused on the replica (its lag grows past REPLICA_MAX_LAG_SECONDS): reads fall back to the
  primary, the warning is logged and shown to a DCC administrator (not to an operator); replay
  resumed: reads return to the replica;
* the replica stopped: the page still answers (from the primary) with the warning; started again:
  reads return to it, with no restart of the web process.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

from bench.served import free_port, gunicorn, stop
from tests.gates.test_faults import PG_SH, ROOT, skip_unless_postgres_servers
from tests.mfa import served_second_factor

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
LOGGED = "-c log_statement=all"


def _env(primary, replica):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings_test", DATABASE_URL=primary, DATABASE_REPLICA_URL=replica,
               REPLICA_MAX_LAG_SECONDS="2", REPLICA_CHECK_SECONDS="1", PYTHONDONTWRITEBYTECODE="1",
               LOG_LEVEL="WARNING")
    return env


def _pg(*args, options=LOGGED):
    return subprocess.run(["bash", str(PG_SH), *args], capture_output=True, text=True, check=True, timeout=120,
                          env={**os.environ, "PG_OPTIONS": options}).stdout.strip()


def _psql(folder, sql):
    """One statement on the server in ``folder`` (as the postgres user when root, as pg.sh runs it)."""
    command = [str(Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")) / "psql"), "-h", folder, "-U",
               "portal", "-d", "portal", "-Atc", sql]
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def _wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def _login(base, username):
    session = requests.Session()
    page = session.get(base + "/accounts/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(base + "/accounts/login/", timeout=10, allow_redirects=False,
                            data={"csrfmiddlewaretoken": csrf, "username": username, "password": "test-password-123"},
                            headers={"Referer": base + "/"})
    assert response.status_code == 302, f"logging in as {username} failed"
    served_second_factor(session, base, username)
    return session


class Topology:
    def __init__(self, root):
        self.root = Path(root)
        self.primary_dir, self.replica_dir = str(self.root / "primary"), str(self.root / "replica")

    def log(self, which):
        return (Path(self.primary_dir if which == "primary" else self.replica_dir) / "server.log").read_text(
            errors="replace")

    def ran_on(self, word):
        """Which servers' statement logs hold ``word``."""
        return {which for which in ("primary", "replica") if word in self.log(which)}


@pytest.fixture
def replicated_portal():
    skip_unless_postgres_servers()
    root = tempfile.mkdtemp(prefix="portal-replica.")
    os.chmod(root, 0o755)
    topology = Topology(root)
    server = None
    log_path = Path(root + ".gunicorn.log")
    log = open(log_path, "w")
    try:
        primary = _pg("start", topology.primary_dir)
        manage = [sys.executable, str(ROOT / "manage.py")]
        env = _env(primary, "")
        env.pop("DATABASE_REPLICA_URL")
        subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True, capture_output=True,
                       timeout=300)
        subprocess.run(
            [*manage, "shell", "-c",
             "from tests.conftest import _person; from portal import services; "
             "from portal.choices import OrganisationKind as K, PortalRole as R; "
             "org = services.organisation_upsert(code='DCC', name='Data Communications Company', kind=K.DCC); "
             "from tests.mfa import seed_served_codes; "
             "seed_served_codes(_person('administrator', org, R.DCC_ADMIN, is_staff=True, is_superuser=True)); "
             "seed_served_codes(_person('operator', org, R.DCC_OPERATIONS))"],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True, timeout=120)
        replica = _pg("replica", topology.primary_dir, topology.replica_dir)
        topology.env = _env(primary, replica)
        port = free_port()
        server = gunicorn(topology.env, port, log)
        topology.base = f"http://127.0.0.1:{port}"
        topology.gunicorn_log = log_path

        def up():
            try:
                requests.get(topology.base + "/accounts/login/", timeout=15)
                return True
            except (requests.ConnectionError, requests.Timeout):  # a first answer can be slow on a loaded machine
                assert server.poll() is None, "gunicorn exited: " + log_path.read_text()[-2000:]
                return False

        _wait(up, 120, "gunicorn to answer")
        topology.manage = manage
        yield topology
    finally:
        stop(server)
        log.close()
        for folder in (topology.replica_dir, topology.primary_dir):
            subprocess.run(["bash", str(PG_SH), "stop", folder], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
        log_path.unlink(missing_ok=True)


def _word():
    return "w" + uuid.uuid4().hex[:12]


WARNING = "read from the primary database, not the read replica"


def test_reading_work_reads_the_replica_and_falls_back_to_the_primary(replicated_portal):
    topology = replicated_portal
    base = topology.base
    admin, operator = _login(base, "administrator"), _login(base, "operator")

    # Reading work (search) runs on the replica; other pages on the primary.
    word = _word()
    page = admin.get(f"{base}/search/?q={word}", timeout=20)
    assert page.status_code == 200 and WARNING not in page.text
    assert topology.ran_on(word) == {"replica"}
    word = _word()
    assert admin.get(f"{base}/organisations/?q={word}", timeout=20).status_code == 200
    assert topology.ran_on(word) == {"primary"}
    for path in ("/", "/slas/"):  # the dashboard and the monthly report answer from the replica
        page = admin.get(base + path, timeout=30)
        assert page.status_code == 200 and WARNING not in page.text, path

    # Inside reading work a write goes to the primary, and what follows reads it back from there.
    read_word, write_word = _word(), _word()
    script = (
        "from portal.dbrouter import reading_from_replica; from portal.models import Organisation; "
        "from portal import services; from portal.choices import OrganisationKind as K\n"
        "with reading_from_replica() as state:\n"
        "    assert state.use_replica, state.fallback_reason\n"
        f"    assert not Organisation.objects.filter(name='{read_word}').exists()\n"
        f"    services.organisation_upsert(code='RW1', name='{write_word}', kind=K.SERVICE_USER)\n"
        f"    assert Organisation.objects.filter(name='{write_word}').exists()\n"
        "print('done')")
    result = subprocess.run([*topology.manage, "shell", "-c", script], env=topology.env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "done" in result.stdout, result.stderr[-2000:]
    assert topology.ran_on(read_word) == {"replica"}
    assert "replica" not in topology.ran_on(write_word) and "primary" in topology.ran_on(write_word)
    replica_lines = [line for line in topology.log("replica").splitlines() if write_word in line]
    assert not replica_lines, f"the replica saw the write or the read after it: {replica_lines}"

    # Replay paused: the replica falls behind; past the bound reads go to the primary, with the warning.
    _psql(topology.replica_dir, "SELECT pg_wal_replay_pause()")
    late = _word()
    primary_only = {k: v for k, v in topology.env.items() if k != "DATABASE_REPLICA_URL"}
    subprocess.run([*topology.manage, "shell", "-c",
                    "from portal import services; from portal.choices import OrganisationKind as K; "
                    f"services.organisation_upsert(code='LATE', name='{late}', kind=K.SERVICE_USER)"],
                   env=primary_only, cwd=ROOT, check=True, capture_output=True, timeout=120)

    def admin_warned():
        page = admin.get(f"{base}/search/?q={late}", timeout=20)
        return page.status_code == 200 and WARNING in page.text and "behind" in page.text

    _wait(admin_warned, 20, "the late replica to send reads to the primary with the warning")
    page = admin.get(f"{base}/search/?q={late}", timeout=20)
    assert f"/organisations/?q={late}" in page.text, "the search found the row the replica has not replayed yet"
    word = _word()
    page = operator.get(f"{base}/search/?q={word}", timeout=20)
    assert page.status_code == 200 and WARNING not in page.text, "the warning is for DCC administrators only"
    assert topology.ran_on(word) == {"primary"}
    _psql(topology.replica_dir, "SELECT pg_wal_replay_resume()")

    def back_on_replica():
        word = _word()
        page = admin.get(f"{base}/search/?q={word}", timeout=20)
        return page.status_code == 200 and WARNING not in page.text and topology.ran_on(word) == {"replica"}

    _wait(back_on_replica, 20, "reads to return to the replica after replay resumed")

    # The replica stopped: pages answer from the primary with the warning, at once.
    subprocess.run(["bash", str(PG_SH), "pause", topology.replica_dir], check=True, capture_output=True, timeout=60)
    try:
        word = _word()
        page = admin.get(f"{base}/search/?q={word}", timeout=20)
        assert page.status_code == 200 and WARNING in page.text and "does not answer" in page.text
        assert topology.ran_on(word) == {"primary"}
        for path in ("/", "/slas/", "/slas/report.csv"):
            response = admin.get(base + path, timeout=30)
            assert response.status_code == 200, f"{path} with the replica down answered {response.status_code}"
    finally:
        _pg("resume", topology.replica_dir)
    _wait(back_on_replica, 30, "reads to return to the replica after it started again")
    gunicorn_log = topology.gunicorn_log.read_text()
    assert "Reads fall back to the primary" in gunicorn_log
