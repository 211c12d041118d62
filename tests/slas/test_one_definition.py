"""One definition of each measure: the Python path (SQLite's) and the SQL path (PostgreSQL's) of
the file loader and of the fold give the same facts, rollups and messages for the same rows, and
a value in a file is stored as data, never run as SQL."""
import ast
import datetime as dt
import io
from pathlib import Path

import pytest
from django.db import connection, transaction

from adapter import selectors as adapter_selectors
from adapter.models import Alert, ServiceRequest, ServiceRequestVariant
from inventory import services as inventory_services
from portal.models import Organisation
from slas import facts, metrics, rollups
from slas.models import AlertFact, DailyRollup, FoldState, Measure, MonthRollup, RequestFact
from tests.slas.factories import alert_row, alerts_csv, generated_month, request_row, requests_csv

UTC = dt.UTC
LONDON = metrics.LONDON
ROOT = Path(__file__).resolve().parents[2]
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="compares PostgreSQL's SQL path with the Python path")


def _snapshot():
    """Everything a load or a fold writes, without the ids the database chose."""
    def rows(model, key):
        names = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
        return {row[key]: row for row in model.objects.values(*names)}

    daily = sorted(DailyRollup.objects.values_list("day", "measure_id", "provider", "region", "organisation_id",
                                                   "measured", "within", "excluded"))
    monthly = {(r.month, r.measure_id, r.provider, r.region, r.organisation_id): (r.measured, r.within, r.excluded,
                                                                                   r.histogram)
               for r in MonthRollup.objects.all()}
    folds = {name: (watermark, last_pk) for name, watermark, last_pk in FoldState.objects.values_list(
        "name", "watermark", "last_pk")}
    return rows(RequestFact, "request_id"), rows(AlertFact, "alert_id"), daily, monthly, folds


def _through(path):
    """Run one path in a savepoint, read what it wrote, and undo it."""
    with transaction.atomic():
        path()
        snapshot = _snapshot()
        transaction.set_rollback(True)
    return snapshot


def _assert_same(sql_path, python_path):
    by_sql, by_python = _through(sql_path), _through(python_path)
    for name, mine, theirs in zip(("request facts", "alert facts", "daily rollups", "month rollups", "fold state"),
                                  by_sql, by_python, strict=True):
        if isinstance(mine, dict):
            assert set(mine) == set(theirs), name
            for key in mine:
                assert mine[key] == theirs[key], (name, key)
        else:
            assert mine == theirs, name
    return by_sql


def _sources(requests, alerts):
    return [("requests", "requests", io.StringIO(requests_csv(requests))),
            ("alerts", "alerts", io.StringIO(alerts_csv(alerts)))]


def _edge_rows():
    """Rows of every request type at the edges of each definition: a boundary value, missing ends,
    rejections before and after DSP sent the request, a clock started before receipt, no receipt,
    half-known HAN time, a London offset and a Z, the October clock change, no region."""
    start = dt.datetime(2025, 10, 26, 0, 30, tzinfo=LONDON).astimezone(UTC)  # clocks go back at 02:00 BST
    rows = []
    for mtype in metrics.REQUEST_TYPES:
        base = f"edge-{mtype}"
        rows += [
            request_row(f"{base}-boundary", "SUPA", start, mtype=mtype, outbound=4.0, csp=25, han=3600, inbound=1),
            request_row(f"{base}-no-end", "SUPA", start, mtype=mtype, missing=("responded_at",)),
            request_row(f"{base}-no-return", "SUPB", start, mtype=mtype, missing=("wan_returned_at", "responded_at")),
            request_row(f"{base}-rejected", "SUPA", start, mtype=mtype, outcome="E19",
                        missing=("dsp_sent_at", "wan_delivered_at", "device_responded_at", "wan_returned_at",
                                 "responded_at")),
            request_row(f"{base}-failed-later", "SUPB", start, mtype=mtype, outcome="E21", missing=("responded_at",)),
            request_row(f"{base}-early-receipt", "SUPA", start, mtype=mtype, received=start - dt.timedelta(hours=3)),
            request_row(f"{base}-late-receipt", "SUPA", start, mtype=mtype, received=start + dt.timedelta(seconds=2)),
            request_row(f"{base}-no-receipt", "SUPB", start, mtype=mtype, missing=("received_at",)),
            request_row(f"{base}-half-han", "SUPA", start, mtype=mtype, missing=("device_responded_at",)),
            request_row(f"{base}-no-region", "SUPA", start, mtype=mtype, region=""),
        ]
        london = request_row(f"{base}-london", "SUPB", start + dt.timedelta(hours=2), mtype=mtype)
        zulu = request_row(f"{base}-zulu", "SUPB", start + dt.timedelta(hours=1), mtype=mtype, outbound=0.0000015)
        for name in facts.REQUEST_TIMES:
            if london[name]:
                london[name] = dt.datetime.fromisoformat(london[name]).astimezone(LONDON).isoformat()
            if zulu[name]:
                zulu[name] = zulu[name].replace("+00:00", "Z")
        rows += [london, zulu]
    alerts = [alert_row("edge-alert", "SUPA", start), alert_row("edge-alert-undelivered", "SUPB", start,
                                                                missing=("delivered_at",)),
              alert_row("edge-alert-unreceived", "SUPA", start, missing=("wan_received_at", "delivered_at")),
              alert_row("edge-alert-boundary", "SUPB", start, csp=55, dsp=4, region="")]
    return rows, alerts


@pytest.mark.postgres
@postgres_only
def test_file_loader_python_and_sql_paths_give_the_same_facts_and_rollups(orgs, measures):
    request_rows, alert_rows = _edge_rows()
    generated_requests, generated_alerts = generated_month(2025, 10, ["SUPA", "SUPB"], requests=700, alerts=150)
    request_rows += generated_requests
    alert_rows += generated_alerts
    assert {r["measurement_type"] for r in request_rows} == set(metrics.REQUEST_TYPES)
    codes = dict(Organisation.objects.values_list("code", "id"))
    requests, alerts, daily, monthly, _ = _assert_same(
        lambda: facts.load_streams(_sources(request_rows, alert_rows)),  # PostgreSQL: COPY and INSERT ... SELECT
        lambda: facts._load_python(_sources(request_rows, alert_rows), codes))  # what SQLite runs
    assert len(requests) == len(request_rows) and len(alerts) == len(alert_rows)
    # The edges did reach every branch of the definitions.
    assert {f["measured"] for f in requests.values()} == {True, False}
    assert requests["edge-dcc_only-rejected"]["measured"] is True
    assert requests["edge-on_demand-boundary"]["dsp_outbound_us"] == 4_000_000
    assert requests["edge-on_demand-no-end"]["end_to_end_us"] == metrics.MISS
    assert requests["edge-on_demand-no-receipt"]["dsp_outbound_us"] is None
    types = dict(Measure.objects.values_list("pk", "measurement_type"))
    assert {types[key[1]] for key in monthly} == set(metrics.MEASUREMENT_TYPES)  # every type was counted
    assert any(row[6] for row in daily) and any(row[5] > row[6] for row in daily)  # within and missed


@pytest.mark.postgres
@postgres_only
def test_file_loader_python_and_sql_paths_name_the_same_bad_rows(orgs, measures):
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    good = [request_row(f"ok-{n}", "SUPA", start) for n in range(3)]
    facts.load_text(requests=requests_csv(good[:1]))  # ok-0 is already loaded
    bad = [dict(good[0]), *good[1:], dict(good[1])]  # lines 2 (loaded before) and 5 (twice in the file)
    for line, changes in enumerate([
        {"request_id": ""}, {"start_at": ""}, {"organisation": "NOBODY's"}, {"region": "east; --"},
        {"dsp_sent_at": "2025-06-10 09:00:01"}, {"responded_at": "yesterday"}, {"measurement_type": "weekly"},
        {"outcome": "E1234567890"}, {"srv": "4.1.1-and-some"}, {"device_id": "x" * 24},
        {"request_id": "r" * 121}, {"region": "North", "organisation": "SUPZ", "received_at": "2025-06-10"},
    ], start=6):
        row = request_row(f"bad-{line}", "SUPA", start)
        row.update(changes)
        bad.append(row)
    alerts = [alert_row("al-ok", "SUPA", start), alert_row("", "SUPA", start), alert_row("al-code", "SUPA", start)]
    alerts[2]["alert_code"] = "0x" + "F" * 20
    codes = dict(Organisation.objects.values_list("code", "id"))
    found = {}
    for name, load in (("sql", facts.load_streams), ("python", lambda s: facts._load_python(s, codes))):
        with pytest.raises(facts.FactsRejected) as rejected:
            load(_sources(bad, alerts))
        found[name] = rejected.value.errors
    assert found["sql"] == found["python"]
    lines = {(label, line) for label, line, _ in found["sql"]}
    assert lines == {("requests", n) for n in [2, 5, *range(6, 18)]} | {("alerts", 3), ("alerts", 4)}
    messages = [message for _, _, message in found["sql"]]
    assert "request_id: 'ok-0' is already loaded" in messages
    assert "request_id: 'ok-1' appears twice in the file" in messages
    assert "organisation: no organisation with code 'NOBODY''s'" in messages
    assert "region: 'east; --' is not one of north, central, south" in messages
    assert "outcome: longer than 8 characters" in messages
    assert RequestFact.objects.count() == 1


def _adapter_traffic(orgs):
    """Completed adapter requests of every measurement type in every ending, with and without a
    known device, and alerts: what the fold reads."""
    srv = ServiceRequestVariant.objects.first()
    if srv is None:  # a transactional test earlier on this worker flushed the data migration's catalogue
        from django.core.management import call_command

        call_command("load_catalogue", stdout=io.StringIO())
        srv = ServiceRequestVariant.objects.first()
    device = inventory_services.device_create(device_id="00-DB-12-34-56-78-90-F0", device_type="ESME",
                                              supplier=orgs["SUPA"], region="north", status="commissioned")
    start = dt.datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    completed = start + dt.timedelta(minutes=5)
    n = 0
    for mtype in metrics.ADAPTER_MEASUREMENT_TYPE:
        for state, outcome, sent in [("responded", "I0", True), ("failed", "E21", True), ("rejected", "E19", False),
                                     ("cancelled", "", False), ("quarantined", "", False), ("timed_out", "", True),
                                     ("failed", "E20", False)]:
            n += 1
            t = start + dt.timedelta(seconds=n)
            t1 = t + dt.timedelta(seconds=1 + n / 100)
            ServiceRequest.objects.create(
                request_id=f"a:b:{n}", srv=srv, organisation=orgs["SUPA" if n % 2 else "SUPB"],
                device=device if n % 3 else None, region=["north", "central", "south", ""][n % 4],
                measurement_type=mtype, state=state, outcome=outcome, start_at=t + dt.timedelta(seconds=n % 2),
                received_at=t, dsp_sent_at=t1 if sent else None,
                wan_delivered_at=t1 + dt.timedelta(seconds=2) if sent else None,
                device_responded_at=t1 + dt.timedelta(seconds=3) if sent and n % 5 else None,
                wan_returned_at=t1 + dt.timedelta(seconds=5) if sent and state != "timed_out" else None,
                responded_at=t1 + dt.timedelta(seconds=5.5) if state == "responded" else t + dt.timedelta(seconds=9),
                # Ties on the watermark: pk orders them.
                completed_at=completed + dt.timedelta(seconds=n // 3))
    ServiceRequest.objects.create(request_id="a:b:never-started", srv=srv, organisation=orgs["SUPA"],
                                  measurement_type="on_demand", state="rejected", outcome="E2", completed_at=completed)
    for n, missing in enumerate([(), ("delivered_at",), ("wan_received_at", "delivered_at")]):
        raised = start + dt.timedelta(seconds=n)
        times = {"wan_received_at": raised + dt.timedelta(seconds=20),
                 "delivered_at": raised + dt.timedelta(seconds=21)}
        Alert.objects.create(alert_id=f"al-{n}", alert_code="0x8F3A", organisation=orgs["SUPA"], region="north",
                             device=device if n else None, raised_at=raised,
                             **{k: None if k in missing else v for k, v in times.items()})


def _fold_in_python(limit):
    for feed in facts.FEEDS:
        state = facts._state(f"adapter {feed.kind.name}")
        facts._fold_python(feed, feed.select((state.watermark, state.last_pk) if state.watermark else None,
                                             limit=limit), state)
    rollups.refresh_summaries()


@pytest.mark.postgres
@postgres_only
def test_fold_python_and_sql_paths_give_the_same_facts_and_rollups(orgs, measures):
    _adapter_traffic(orgs)

    def in_windows(fold):
        def run():
            for _ in range(20):  # windows of 4: ties on the watermark fall across windows
                fold(4)
        return run

    requests, alerts, *_ = _assert_same(in_windows(lambda limit: facts.fold_adapter(limit=limit)),
                                        in_windows(_fold_in_python))
    assert len(requests) == 6 * 7 and len(alerts) == 3  # the request that never started is not a fact
    assert {f["measurement_type"] for f in requests.values()} == set(metrics.ADAPTER_MEASUREMENT_TYPE.values())
    assert {f["measured"] for f in requests.values()} == {True, False}
    assert {f["device_id"] for f in requests.values()} == {"", "00-DB-12-34-56-78-90-F0"}


def _plain(value):
    # A raw cursor on SQLite gives naive UTC datetimes; the ORM gives aware ones.
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC)
    return value


def test_the_fold_selectors_columns_come_in_the_documented_order(orgs):
    _adapter_traffic(orgs)
    for rows, columns in ((adapter_selectors.completed_requests_since(limit=10),
                           adapter_selectors.COMPLETED_REQUEST_COLUMNS),
                          (adapter_selectors.alerts_since(limit=10), adapter_selectors.ALERT_COLUMNS)):
        query, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            raw = cursor.fetchall()
        as_dicts = list(rows)
        assert list(as_dicts[0]) == list(columns)
        # Compiled to SQL the columns come by position in the same order (the fold relies on it).
        assert [tuple(map(_plain, r)) for r in raw] == [tuple(map(_plain, d.values())) for d in as_dicts]
    first = list(adapter_selectors.completed_requests_since(limit=5))
    rest = list(adapter_selectors.completed_requests_since((first[-1]["completed_at"], first[-1]["pk"]), limit=100))
    every = list(adapter_selectors.completed_requests_since(limit=100))
    assert first + rest == every  # a watermark never skips or repeats a row


def test_a_hostile_value_in_a_file_is_stored_as_data(orgs, measures):
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    hostile = "r1'); DROP TABLE slas_requestfact; --"
    row = request_row(hostile, "SUPA", start)
    row["device_id"] = "a'b;\"c\\d"
    row["srv"] = "';--"
    alert = alert_row("al'; DELETE FROM slas_measure; --", "SUPA", start)
    alert["alert_code"] = "x'||'y;"
    measures_before = Measure.objects.count()
    facts.load_text(requests=requests_csv([row]), alerts=alerts_csv([alert]))
    fact = RequestFact.objects.get()
    assert (fact.request_id, fact.device_id, fact.srv) == (hostile, "a'b;\"c\\d", "';--")
    assert AlertFact.objects.get().alert_code == "x'||'y;"
    assert AlertFact.objects.get().alert_id == "al'; DELETE FROM slas_measure; --"
    assert Measure.objects.count() == measures_before
    # Refused values are named in the messages, quoted, and still never run.
    bad = request_row("r2", "X'; DROP TABLE portal_organisation; --", start)
    bad["region"] = "'; SELECT pg_sleep(10); --"
    with pytest.raises(facts.FactsRejected) as rejected:
        facts.load_text(requests=requests_csv([bad]))
    assert [m for _, _, m in rejected.value.errors] == [
        "organisation: no organisation with code 'X''; DROP TABLE portal_organisation; --'",
        "region: '''; SELECT pg_sleep(10); --' is not one of north, central, south",
    ]
    assert Organisation.objects.filter(code="SUPA").exists() and RequestFact.objects.count() == 1


def test_a_quoted_empty_cell_is_an_absent_value_on_both_paths(orgs, measures):
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    row = request_row("quoted-empty", "SUPA", start)
    text = requests_csv([row]).replace(row["responded_at"], '""').replace(",north,", ',"",')
    facts.load_text(requests=text)
    fact = RequestFact.objects.get()
    assert fact.responded_at is None and fact.region == "" and fact.end_to_end_us == metrics.MISS


def _formatted_sql(path):
    """(line, text) of every f-string, str.format or % formatting whose text starts like SQL."""
    keywords = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "CREATE", "DROP", "LOCK", "SET ", "COPY",
                "TRUNCATE", "ALTER")

    def sqlish(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value.lstrip().upper().startswith(keywords)
        if isinstance(node, ast.JoinedStr) and node.values:
            return sqlish(node.values[0])
        return False

    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.JoinedStr) and sqlish(node):
            found.append(node.lineno)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and sqlish(node.left):
            found.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
              and sqlish(node.func.value)):
            found.append(node.lineno)
    return found


def test_sql_in_slas_and_adapter_is_composed_never_formatted():
    offenders = {}
    for app in ("slas", "adapter"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            if found := _formatted_sql(path):
                offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_slas_names_no_adapter_table():
    from django.apps import apps

    tables = {model._meta.db_table for model in apps.get_app_config("adapter").get_models()}
    for path in sorted((ROOT / "slas").rglob("*.py")):
        text = path.read_text()
        assert not [t for t in tables if t in text], path
