"""make load: a short, bounded load run on localhost only.

Starts its own portal (gunicorn on 127.0.0.1 at a free port, on a throwaway PostgreSQL 15 from
scripts/pg.sh when its binaries are present, else a temporary SQLite file), loads the demo data, then runs
CLIENTS concurrent clients for SECONDS seconds. Half are the DCC operator `ops`, half the supplier `supa`,
each logged in (pages by session, API by token); each cycles through the main pages of the navigation and
every API list of the schema. A request counts as an error when it fails or answers 4xx/5xx.
Figures go to bench/results/load.json; the exit status is 1 when any request failed.

    .venv/bin/python bench/load.py [--clients 30] [--seconds 30] [--sqlite]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script (make load): bench.served is found from the checkout's root
    sys.path.insert(0, str(ROOT))
from bench.served import free_port, gunicorn, serving, stop  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load.json"
PG_SH = ROOT / "scripts" / "pg.sh"
PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))
DEMO_PASSWORD = "smart-metering-demo"
MAX_REQUESTS_PER_CLIENT = 100_000  # a second bound besides the clock
# ops and supa must pass multi-factor sign-in: this throwaway portal gives each recovery codes the
# load run knows (each works once; every sign-in and token takes the next).
CODES = 20
_SEED_CODES = (
    "from django_otp.plugins.otp_static.models import StaticDevice, StaticToken\n"
    "from django_otp.plugins.otp_totp.models import TOTPDevice\n"
    "from portal.models import User\n"
    "for user in User.objects.filter(username__in=['ops', 'supa']):\n"
    "    TOTPDevice.objects.get_or_create(user=user, name='Load run app', defaults={'confirmed': True})\n"
    "    device, _ = StaticDevice.objects.get_or_create(\n"
    "        user=user, name='Load run codes', defaults={'confirmed': True})\n"
    "    StaticToken.objects.bulk_create(\n"
    f"        StaticToken(device=device, token=f'L{{user.username[:5].upper()}}{{n:03d}}') for n in range({CODES}))\n"
)
_used = {}


def next_code(username):
    _used[username] = _used.get(username, -1) + 1
    return f"L{username[:5].upper()}{_used[username]:03d}"  # recovery codes: at most 10 letters and digits


def run(cmd, env, **kwargs):
    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"load: {' '.join(map(str, cmd[-2:]))} failed:\n{result.stderr[-3000:]}")
    return result


def percentile(values, share):
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)


def login(base, username):
    session = requests.Session()
    page = session.get(base + "/accounts/login/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(base + "/accounts/login/", timeout=30, allow_redirects=False, headers={"Referer": base + "/"},
                          data={"csrfmiddlewaretoken": csrf, "username": username, "password": DEMO_PASSWORD})
    if answer.status_code != 302:
        raise SystemExit(f"load: logging in as {username} failed ({answer.status_code})")
    page = session.get(base + "/accounts/mfa/", timeout=30)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(base + "/accounts/mfa/", timeout=30, allow_redirects=False, headers={"Referer": base + "/"},
                          data={"csrfmiddlewaretoken": csrf, "code": next_code(username)})
    if answer.status_code != 302 or "/accounts/mfa/" in answer.headers.get("Location", ""):
        raise SystemExit(f"load: the second factor of {username} failed ({answer.status_code})")
    token = requests.post(base + "/api/auth/token/", json={"username": username, "password": DEMO_PASSWORD,
                                                           "otp": next_code(username)}, timeout=30).json()["token"]
    return session, token


def targets(base, session, token):
    """Main pages (the user's navigation) and every API list of the schema."""
    home = session.get(base + "/", timeout=30).text
    nav = re.search(r'<nav class="sidebar".*?</nav>', home, re.S)
    pages = sorted(set(re.findall(r'href="(/[^"?#]*)"', nav.group(0) if nav else "")))
    pages = [p for p in pages if not p.startswith(("/admin/", "/api/"))] or ["/"]
    schema = requests.get(base + "/api/schema/?format=json", headers={"Authorization": f"Token {token}"},
                          timeout=60).json()
    def needs_arguments(operation):  # e.g. a report that must be told its month
        return any(p.get("required") for p in operation.get("parameters", []))

    lists = sorted(path for path, item in schema["paths"].items()
                   if "get" in item and "{" not in path and not needs_arguments(item["get"])
                   and not path.startswith(("/api/schema", "/api/auth")))
    # The schema is the same for everyone, but some lists belong to one role (e.g. people/managed to an
    # organisation's administrator): a list that answers this person 403 before the run is not one of
    # their targets (listed in the results as such), so a 403 during the run is still an error.
    headers = {"Authorization": f"Token {token}"}
    refused = [path for path in lists if requests.get(base + path, headers=headers, timeout=60).status_code == 403]
    lists = [path for path in lists if path not in refused]
    return [("page", p) for p in pages] + [("api", p) for p in lists], refused


def client(base, session, token, plan, deadline, results, index):
    api_headers = {"Authorization": f"Token {token}"}
    api = requests.Session()
    n = 0
    while time.monotonic() < deadline and n < MAX_REQUESTS_PER_CLIENT:
        kind, path = plan[(index + n) % len(plan)]
        n += 1
        started = time.monotonic()
        try:
            if kind == "page":
                answer = session.get(base + path, timeout=30, allow_redirects=False)
            else:
                answer = api.get(base + path, headers=api_headers, timeout=30)
            status = answer.status_code
        except requests.RequestException as exc:
            status = f"{exc.__class__.__name__}"
        results.append((kind, path, status, time.monotonic() - started))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sqlite", action="store_true", help="use a temporary SQLite file even if PostgreSQL exists")
    options = parser.parse_args()
    if not 1 <= options.clients <= 200 or not 1 <= options.seconds <= 300:
        raise SystemExit("load: keep it bounded: 1-200 clients, 1-300 seconds")

    work = Path(tempfile.mkdtemp(prefix="portal-load."))
    pg_dir, server = None, None
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    # The test settings: DEBUG off, cookies usable over plain HTTP on localhost, no throttling (this run
    # measures capacity; throttling is proven by tests/portal/test_auth.py).
    env.update(DJANGO_SETTINGS_MODULE="config.settings_test", PORTAL_VAR_DIR=str(work / "var"), LOG_LEVEL="WARNING",
               PYTHONDONTWRITEBYTECODE="1")
    try:
        if not options.sqlite and (PGBIN / "initdb").exists():
            pg_dir = tempfile.mkdtemp(prefix="portal-load-pg.")
            env["DATABASE_URL"] = run(["bash", str(PG_SH), "start", pg_dir], env, timeout=180).stdout.strip()
            database = "postgresql"
        else:
            env["DATABASE_URL"] = f"sqlite:///{work / 'load.sqlite3'}"
            database = "sqlite"
        print(f"load: preparing a portal on {database} with demo data ...", flush=True)
        manage = [sys.executable, str(ROOT / "manage.py")]
        run([*manage, "migrate", "--noinput"], env, timeout=600)
        started = time.monotonic()
        # load_demo runs only with DEBUG on (it refuses on a production configuration); the
        # server below keeps the test settings' DEBUG off.
        run([*manage, "load_demo"], {**env, "DEBUG": "1"}, timeout=900)
        run([*manage, "shell", "-c", _SEED_CODES], env, timeout=120)
        demo_seconds = round(time.monotonic() - started, 1)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        workers = max(2, (os.cpu_count() or 2))
        log = open(work / "gunicorn.log", "w")
        server = gunicorn(env, port, log, workers=workers, threads=4)
        if not serving(base, server, seconds=120, request_timeout=30, pause=0.5):
            raise SystemExit(f"load: the server did not start (see {work / 'gunicorn.log'})")
        people = [login(base, "ops"), login(base, "supa")]
        plans, refused = zip(*(targets(base, session, token) for session, token in people), strict=True)
        print(f"load: {options.clients} clients for {options.seconds:g} s against {base} "
              f"({len(plans[0])} ops targets, {len(plans[1])} supplier targets)", flush=True)
        results, threads = [], []
        deadline = time.monotonic() + options.seconds
        began = time.monotonic()
        for index in range(options.clients):
            session, token = people[index % 2]
            thread = threading.Thread(target=client, daemon=True,
                                      args=(base, session, token, plans[index % 2], deadline, results, index))
            threads.append(thread)
            thread.start()
        for thread in threads:
            thread.join(timeout=options.seconds + 60)
        elapsed = time.monotonic() - began
    finally:
        stop(server)
        if pg_dir:
            subprocess.run(["bash", str(PG_SH), "stop", pg_dir], capture_output=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)

    errors = [(kind, path, status) for kind, path, status, _ in results if not isinstance(status, int) or status >= 400]
    by_target = {}
    for kind, path, _status, seconds in results:
        by_target.setdefault(f"{kind} {path}", []).append(seconds)
    durations = [seconds for *_rest, seconds in results]
    summary = {
        "clients": options.clients, "seconds": options.seconds, "elapsed_s": round(elapsed, 1),
        "database": database, "server": f"gunicorn {workers} workers x 4 threads on 127.0.0.1",
        "demo_load_s": demo_seconds, "cpu_count": os.cpu_count(),
        "requests": len(results), "errors": len(errors), "requests_per_s": round(len(results) / elapsed, 1),
        "latency_ms": {"p50": percentile(durations, 0.50), "p95": percentile(durations, 0.95),
                       "p99": percentile(durations, 0.99), "max": percentile(durations, 1.0),
                       "mean": round(statistics.fmean(durations) * 1000, 1) if durations else None},
        "by_target": {name: {"requests": len(values), "p50_ms": percentile(values, 0.5),
                             "p95_ms": percentile(values, 0.95)} for name, values in sorted(by_target.items())},
        "not_this_roles": {"ops": refused[0], "supa": refused[1]},
        "error_samples": [f"{kind} {path} -> {status}" for kind, path, status in errors[:20]],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"load: {summary['requests']} requests, {summary['errors']} errors, {summary['requests_per_s']} req/s, "
          f"p50 {summary['latency_ms']['p50']} ms, p95 {summary['latency_ms']['p95']} ms -> {RESULTS}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
