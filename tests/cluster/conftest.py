"""tests/cluster runs only inside the topology that scripts/cluster_test.sh builds (make cluster-test;
make test where network namespaces can be made). Anywhere else it is skipped with that reason.

Each scenario test is marked ``@pytest.mark.scenario("name")`` and fills ``scenario["detail"]``; its
result (ok or not, and the failure when not) goes to CLUSTER_RESULTS as
{"run_at", "machine", "results": [{"scenario", "ok", "detail"}]}."""
import datetime as dt
import json
import os
from pathlib import Path

import pytest

IN_TOPOLOGY = bool(os.environ.get("CLUSTER_DIR"))
RESULTS = []
STARTED = dt.datetime.now(dt.UTC).replace(microsecond=0)


def pytest_configure(config):
    config.addinivalue_line("markers", "scenario(name): one scenario of the multi-host topology (tests/cluster)")


def pytest_collection_modifyitems(config, items):
    if IN_TOPOLOGY:
        return
    skip = pytest.mark.skip(reason="needs the multi-host topology: make cluster-test (scripts/cluster_test.sh)")
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def live_db(django_db_blocker):
    """The topology's own database (DATABASE_URL on host db), read directly: no test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def scenario(request, live_db):
    marker = request.node.get_closest_marker("scenario")
    entry = {"scenario": marker.args[0], "ok": False, "detail": ""}
    yield entry
    report = getattr(request.node, "report_call", None)
    entry["ok"] = bool(report and report.passed)
    if report is not None and report.failed:
        failure = str(report.longrepr).strip().splitlines()
        reason = next((line for line in reversed(failure) if line.startswith("E ")), failure[-1] if failure else "")
        entry["detail"] = (entry["detail"] + " FAILED: " if entry["detail"] else "FAILED: ") + reason[2:].strip()
    RESULTS.append(entry)


def pytest_sessionfinish(session, exitstatus):
    if not IN_TOPOLOGY or not RESULTS:
        return
    from bench.results import machine

    path = Path(os.environ.get("CLUSTER_RESULTS") or Path(__file__).resolve().parents[2] / "bench/results/cluster.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"run_at": STARTED.isoformat(), "machine": machine(), "results": RESULTS}
    path.write_text(json.dumps(document, indent=1) + "\n")
