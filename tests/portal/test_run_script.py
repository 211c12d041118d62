"""`make run`'s supervisor (scripts/run.py) on a throwaway SQLite database: it prints the URL only
once the server answers, says how to stop, and on SIGTERM every process it started (the web server
and each qcluster's main, sentinel, pusher, workers and monitor) is gone within 10 s."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from run import group_members  # noqa: E402  (scripts/ is not a package)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid):
    """Every live process below ``pid`` (children in other sessions included), from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pids):
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


@pytest.fixture
def run_env(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", "Q_BROKER": "orm",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}", "EMAIL_URL": "locmem://",
           "PORTAL_VAR_DIR": str(tmp_path / "var"), "ADAPTER_BACKEND": "simulator", "PYTHONUNBUFFERED": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)
    return env


def test_run_prints_the_url_once_the_server_answers_and_stops_everything_on_sigterm(run_env, tmp_path):
    port = _free_port()
    log = tmp_path / "run.log"
    with open(log, "wb") as handle:
        proc = subprocess.Popen([sys.executable, "scripts/run.py", "--port", str(port)], cwd=ROOT, env=run_env,
                                stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 240
        while f"DCC operations portal: {url}" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "no URL line within 240 s:\n" + log.read_text(errors="replace")
            time.sleep(0.2)
        # Printed only when the server answers: the page is there at once, no retry.
        with urllib.request.urlopen(url + "accounts/login/", timeout=5) as response:
            assert response.status == 200
            assert b"Log in" in response.read()
        text = log.read_text(errors="replace")
        assert "Press Ctrl-C to stop" in text
        assert "Demo logins" in text
        # All three clusters are up (each main process has its sentinel below it) and the web server.
        children = _descendants(proc.pid)
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in children]
        assert sum(b"runserver" in command for command in commands) == 1
        assert sum(b"qcluster" in command for command in commands) >= 3 * 4  # main, sentinel, pusher, monitor...
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        while _alive(children) and time.monotonic() - started < 10:
            time.sleep(0.1)
        assert _alive(children) == [], f"still running 10 s after SIGTERM: {_alive(children)}"
        assert time.monotonic() - started < 10
        assert proc.returncode == 0
        text = log.read_text(errors="replace")
        assert "run: stopped" in text
        assert "were killed" not in text  # every cluster stopped by itself, none needed SIGKILL
    finally:
        for pid in _alive(_descendants(proc.pid)) + ([proc.pid] if proc.poll() is None else []):
            os.kill(pid, signal.SIGKILL)


def test_group_members_lists_the_live_processes_of_a_group():
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert group_members(sleeper.pid) == [sleeper.pid]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert group_members(sleeper.pid) == []
