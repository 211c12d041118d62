"""`make run`'s last step: the web server and the three django-q2 clusters, started and stopped together.

    python scripts/run.py [--host 127.0.0.1] [--port 8000]

It prints the URL only once the server answers, with the demo logins and how to stop, and it stops
everything on Ctrl-C or SIGTERM within STOP_SECONDS.

Why a supervisor rather than shell `&` and a trap (as the Makefile had): Ctrl-C in a terminal sends
SIGINT to the whole foreground process group, so every cluster process (main, sentinel, pusher,
workers, monitor) got it at once, and then the trap sent each cluster's main process a SIGTERM on
top. django-q2's Cluster.sig_handler runs stop() inside the signal handler (stop_event.set() and
sentinel.join(), neither safe in signal context: django-q2 issue #346), so a second signal landing
while the first stop() holds the event's lock deadlocks the cluster after "stopping". SIGTERM to
make reached none of them at all. Here each child runs in its own session (its own process group),
so the terminal's SIGINT reaches only this script; each cluster's main process gets exactly one
SIGTERM; whatever of a group is still alive after the deadline is killed with SIGKILL.

Standard library only: it runs before anything else is known to work.
"""
import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The clusters of Q_CLUSTER (config/settings.py): the main one, the small "urgent" one that sends
# single service requests (adapter.tasks.URGENT_CLUSTER) and "hooks", which delivers webhooks
# (portal.webhooks.services.HOOKS_CLUSTER).
CLUSTERS = ("main", "urgent", "hooks")
# The whole stop, polite then forced, stays under the 10 s a person (or a supervisor such as
# systemd's default 90 s, or a test) will wait: the polite part gets most of it.
STOP_SECONDS = 7.0
READY_SECONDS = 180.0  # a first start on a busy 2-core machine loads Django four times at once
POLL_SECONDS = 0.2


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group, read from /proc; [] when none are left."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the command name (which may hold spaces) in /proc/<pid>/stat: state ppid pgrp.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone while we looked
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


class Supervisor:
    def __init__(self, python: str, host: str, port: int) -> None:
        self.python = python
        self.host = host
        self.port = port
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_signal: int | None = None
        self.forced = False

    def on_signal(self, signum: int, _frame: object) -> None:
        # Only a flag: the work is done in the main loop, outside the handler. A second signal
        # while stopping means "now": the groups are killed at once.
        if self.stop_signal is not None:
            self.forced = True
        self.stop_signal = signum

    def spawn(self, name: str, args: list[str], **env: str) -> None:
        self.children[name] = subprocess.Popen(
            [self.python, "manage.py", *args], cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
            start_new_session=True)

    def start(self) -> None:
        for name in CLUSTERS:
            self.spawn(f"qcluster {name}", ["qcluster"], **({} if name == "main" else {"Q_CLUSTER_NAME": name}))
        self.spawn("runserver", ["runserver", "--noreload", f"{self.host}:{self.port}"])

    def died(self) -> str | None:
        for name, child in self.children.items():
            if child.poll() is not None:
                return f"{name} exited with code {child.returncode}"
        return None

    def answers(self, url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # an error page is an answer: the server is up
        except (OSError, ValueError):
            return False

    def wait_ready(self, url: str) -> str | None:
        """None once the server answers; otherwise why not (a child died, a signal, too slow)."""
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.stop_signal is not None:
                return "stopped before the server answered"
            if (why := self.died()) is not None:
                return why
            if self.answers(url):
                return None
            time.sleep(POLL_SECONDS)
        return f"the server did not answer {url} within {READY_SECONDS:.0f} s"

    def stop(self) -> int:
        """Stop every child: one SIGTERM to each main process (each cluster stops its own workers),
        then SIGKILL to whatever of each process group is left at the deadline. The number killed."""
        for child in self.children.values():
            if child.poll() is None:
                try:
                    child.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline and not self.forced:
            for child in self.children.values():
                child.poll()
            if not any(group_members(child.pid) for child in self.children.values()):
                return 0
            time.sleep(POLL_SECONDS)
        killed = 0
        for child in self.children.values():
            left = group_members(child.pid)
            if left:
                killed += len(left)
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for child in self.children.values():
            try:
                child.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        return killed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs manage.py")
    args = parser.parse_args()
    supervisor = Supervisor(args.python, args.host, args.port)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, supervisor.on_signal)
    base = f"http://{args.host}:{args.port}/"
    # The logins are read while the servers start (it loads Django too: no need to wait twice).
    logins = subprocess.Popen([args.python, "manage.py", "demo_logins"], cwd=ROOT, stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    supervisor.start()
    problem = supervisor.wait_ready(base + "accounts/login/")
    try:
        logins_text = logins.communicate(timeout=60)[0] if problem is None else ""
    except subprocess.TimeoutExpired:
        logins.kill()
        logins_text = ""
    if problem is None:
        print("", flush=True)
        print(f"  DCC operations portal: {base}", flush=True)
        if logins_text.strip():
            print("  Demo logins (username, password, role):")
            print(logins_text.rstrip("\n"))
        print(f"  Press Ctrl-C to stop (or send SIGTERM to process {os.getpid()}).", flush=True)
        print("", flush=True)
        while supervisor.stop_signal is None and (problem := supervisor.died()) is None:
            time.sleep(POLL_SECONDS)
    if logins.poll() is None:
        logins.kill()
    if problem:
        print(f"run: {problem}; stopping", file=sys.stderr, flush=True)
    else:
        print("run: stopping the web server and the task queue clusters", flush=True)
    killed = supervisor.stop()
    if killed:
        print(f"run: {killed} process(es) did not stop within {STOP_SECONDS:.0f} s and were killed", flush=True)
    print("run: stopped", flush=True)
    return 1 if problem and supervisor.stop_signal is None else 0


if __name__ == "__main__":
    sys.exit(main())
