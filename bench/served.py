"""A portal served by gunicorn on localhost for a run that talks to it over HTTP: a free port to
serve it on, the server, the wait until it answers, and its end. The load run (bench/load.py) and
the fault and replica gates (tests/gates/) start their portals this way."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serving(base: str, server: subprocess.Popen, *, seconds: float, request_timeout: float,
            pause: float = 0.2) -> bool:
    """Whether the portal at ``base`` answers its login page within ``seconds``; False as soon as the
    server process has exited (its log says why) or the time is up."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(base + "/accounts/login/", timeout=request_timeout)
            return True
        except requests.RequestException:
            if time.monotonic() > deadline or server.poll() is not None:
                return False
            time.sleep(pause)


def gunicorn(env: dict[str, str], port: int, log, *, workers: int = 1, threads: int = 2) -> subprocess.Popen:
    """gunicorn serving the portal on 127.0.0.1:port (its output to ``log``), in its own process
    group so that stop() ends it and its children."""
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}",
         "-w", str(workers), "--threads", str(threads), "--timeout", "60"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop(server: subprocess.Popen | None) -> None:
    """End a gunicorn started by gunicorn() (TERM, then KILL after 20 s); nothing if it is gone."""
    if server is not None and server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
