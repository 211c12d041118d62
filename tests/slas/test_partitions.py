"""Facts by month on PostgreSQL: the partitioned tables, partitions made ahead and on demand."""
import datetime as dt
import gzip
import io
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from slas import facts, metrics, partitions, report, rollups, services
from slas.models import AlertFact, FactArchive, MonthRollup, RequestFact
from tests.slas.factories import alerts_csv, generated_month, request_row, requests_csv

UTC = dt.UTC
pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL's")


def _kind(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind, pg_get_partkeydef(oid) FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()


def _where(request_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM slas_requestfact WHERE request_id = %s", [request_id])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_fact_tables_are_partitioned_by_month_after_migrate():
    for table in ("slas_requestfact", "slas_alertfact"):
        assert _kind(table) == ("p", "RANGE (day)")
        assert partitions.exists(partitions.default_name(table))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = 'slas_requestfact'::regclass AND contype IN ('p', 'u') ORDER BY contype")
        assert [r[0] for r in cursor.fetchall()] == ["PRIMARY KEY (id, day)", "UNIQUE (request_id, day)"]


@pytest.mark.django_db
def test_partitions_ahead_are_made_once():
    made = partitions.ahead(today=dt.date(2031, 1, 20))
    assert made == [f"{t}_2031_{m:02}" for t in ("slas_requestfact", "slas_alertfact") for m in (1, 2, 3)]
    assert partitions.ahead(today=dt.date(2031, 1, 20)) == []
    assert list(partitions.months("slas_alertfact"))[-3:] == [dt.date(2031, m, 1) for m in (1, 2, 3)]


@pytest.mark.django_db
def test_a_fact_of_a_month_without_partition_waits_in_default_and_moves_when_it_is_made(orgs, measures):
    # The ORM (tests, the demo) writes wherever it likes: the DEFAULT partition takes it.
    start = dt.datetime(2032, 5, 3, 9, 0, tzinfo=UTC)
    RequestFact.objects.create(request_id="orm", measurement_type="on_demand", organisation=orgs["SUPA"],
                               start_at=start, day=start.date())
    assert _where("orm") == "slas_requestfact_default"
    assert partitions.ensure("slas_requestfact", dt.date(2032, 5, 1)) is True
    assert _where("orm") == "slas_requestfact_2032_05"
    assert partitions.ensure("slas_requestfact", dt.date(2032, 5, 1)) is False
    assert RequestFact.objects.get(request_id="orm").organisation_id == orgs["SUPA"].pk


# --- loading a month: a fresh table attached as the month's partition ----------------------------

def _tables(like):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE %s AND relkind IN ('r', 'p') ORDER BY 1",
                       [like])
        return [r[0] for r in cursor.fetchall()]


def _indexes(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT regexp_replace(indexdef, '^.* USING ', '') FROM pg_indexes WHERE tablename = %s "
                       "ORDER BY 1", [table])
        return [r[0] for r in cursor.fetchall()]


def _month_rows(start, count, prefix, **extra):
    return [request_row(f"{prefix}{n}", "SUPA" if n % 2 else "SUPB", start + dt.timedelta(minutes=n), **extra)
            for n in range(count)]


@pytest.mark.django_db
def test_a_month_loads_as_its_own_partition_with_the_indexes_built_after(orgs, measures):
    start = dt.datetime(2033, 3, 1, 0, 30, tzinfo=UTC)
    late = dt.datetime(2033, 4, 30, 23, 30, tzinfo=UTC)  # 1 May in London (BST): the next month
    facts.load_text(requests=requests_csv(_month_rows(start, 5, "m") + [request_row("late", "SUPA", late)]))
    assert _where("m0") == "slas_requestfact_2033_03" and _where("late") == "slas_requestfact_2033_05"
    # One partition per month the file holds; nothing left of the load's own tables.
    assert _tables("slas_requestfact_2033%") == ["slas_requestfact_2033_03", "slas_requestfact_2033_05"]
    assert _tables("%\\_new") == [] and _tables("%\\_load") == []
    assert _indexes("slas_requestfact_2033_03") == ["brin (day)", "btree (id, day)", "btree (request_id, day)",
                                                    "btree (start_at)"]
    sm11 = MonthRollup.objects.filter(month=dt.date(2033, 3, 1), measure__code="SM1.1",
                                      measure__measurement_type="on_demand")
    assert sum(sm11.values_list("measured", flat=True)) == 5


@pytest.mark.django_db
def test_a_second_file_for_a_loaded_month_adds_to_it_and_a_reload_is_refused(orgs, measures):
    start = dt.datetime(2033, 6, 10, 9, 0, tzinfo=UTC)
    facts.load_text(requests=requests_csv(_month_rows(start, 3, "a")))
    facts.load_text(requests=requests_csv(_month_rows(start, 2, "b")))
    assert RequestFact.objects.filter(day__month=6, day__year=2033).count() == 5
    with pytest.raises(facts.FactsRejected) as rejected:
        facts.load_text(requests=requests_csv(_month_rows(start, 2, "b")))
    assert [(line, message) for _l, line, message in rejected.value.errors] == [
        (2, "request_id: 'b0' is already loaded"), (3, "request_id: 'b1' is already loaded")]
    # Loaded in another month on another day: still the same request, still refused.
    other = [request_row("a0", "SUPA", dt.datetime(2033, 8, 1, 12, 0, tzinfo=UTC))]
    with pytest.raises(facts.FactsRejected) as rejected:
        facts.load_text(requests=requests_csv(other))
    assert [(line, message) for _l, line, message in rejected.value.errors] == [
        (2, "request_id: 'a0' is already loaded")]
    # Twice in one file on different days: refused by line.
    twice = [request_row("t", "SUPA", start), request_row("t", "SUPA", start + dt.timedelta(days=3))]
    with pytest.raises(facts.FactsRejected) as rejected:
        facts.load_text(requests=requests_csv(twice))
    assert [(line, message) for _l, line, message in rejected.value.errors] == [
        (3, "request_id: 't' appears twice in the file")]


def _counts(cursor, month):
    """The month's facts and its request rollups' count, read in one statement (one snapshot)."""
    cursor.execute("SELECT (SELECT count(*) FROM slas_requestfact WHERE day >= %s AND day < %s), "
                   "(SELECT coalesce(sum(r.measured), 0) FROM slas_monthrollup r JOIN slas_measure m "
                   "ON m.id = r.measure_id WHERE r.month = %s AND m.code = 'SM1.1' "
                   "AND m.measurement_type = 'on_demand')",
                   [month, metrics.next_month(month), month])
    return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_a_month_is_replaced_atomically_while_another_connection_reads_it(orgs, measures):
    month, start = dt.date(2034, 2, 1), dt.datetime(2034, 2, 3, 9, 0, tzinfo=UTC)
    facts.load_text(requests=requests_csv(_month_rows(start, 300, "old")))
    params = connection.get_connection_params()
    seen, stop = [], threading.Event()

    def read():
        with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as other:
            with other.cursor() as cursor:
                while not stop.is_set():
                    seen.append(_counts(cursor, month))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        while not seen:
            time.sleep(0.01)
        facts.load_text(requests=requests_csv(_month_rows(start, 2000, "new", outbound=9)), replace=True)
        time.sleep(0.2)
    finally:
        stop.set()
        reader.join()
    assert set(seen) <= {(300, 300), (2000, 2000)}, set(seen)
    assert seen[0] == (300, 300) and seen[-1] == (2000, 2000)
    assert RequestFact.objects.filter(request_id__startswith="old").count() == 0
    assert _tables("slas_requestfact_2034%") == ["slas_requestfact_2034_02"]


@pytest.mark.django_db
def test_a_replaced_month_reports_what_an_independent_computation_of_its_rows_says(orgs, measures):
    from tests.slas.test_facts_and_report import _direct

    month = dt.date(2025, 10, 1)
    first = generated_month(2025, 10, ["SUPA", "SUPB"], requests=1500, alerts=300, seed=7)
    facts.load_text(requests=requests_csv(first[0]), alerts=alerts_csv(first[1]))
    request_rows, alert_rows = generated_month(2025, 10, ["SUPA", "SUPB"], requests=2000, alerts=400, seed=8)
    incident = MonthRollup.objects.filter(month=month, measure__measurement_type="incident").count()
    facts.load_text(requests=requests_csv(request_rows), alerts=alerts_csv(alert_rows), replace=True)
    data = report.as_json(report.build(month, None))
    direct = _direct(request_rows, alert_rows, month)
    for row in data["measures"]:
        if row["type"] == "incident":
            continue
        expected = direct.get((row["code"], row["type"], row["region"]), (0, 0, []))
        assert (row["measured"], row["within"]) == tuple(expected[:2]), row
    assert MonthRollup.objects.filter(month=month, measure__measurement_type="incident").count() == incident
    # And a rebuild from the facts now in the partition gives the same report.
    rollups.rebuild_month(month)
    assert report.as_json(report.build(month, None)) == data


@pytest.mark.django_db
def test_a_replacement_with_a_bad_row_leaves_the_month_as_it_was(orgs, measures):
    start = dt.datetime(2034, 5, 3, 9, 0, tzinfo=UTC)
    facts.load_text(requests=requests_csv(_month_rows(start, 4, "keep")))
    rows = _month_rows(start, 6, "new")
    rows[3]["organisation"] = "NOPE"  # line 5
    with pytest.raises(facts.FactsRejected) as rejected:
        facts.load_text(requests=requests_csv(rows), replace=True)
    assert [(line, message) for _l, line, message in rejected.value.errors] == [
        (5, "organisation: no organisation with code 'NOPE'")]
    assert sorted(RequestFact.objects.filter(day__year=2034, day__month=5).values_list("request_id", flat=True)) == [
        "keep0", "keep1", "keep2", "keep3"]
    assert _where("keep0") == "slas_requestfact_2034_05" and _tables("%\\_new") == []
    with connection.cursor() as cursor:
        assert _counts(cursor, dt.date(2034, 5, 1)) == (4, 4)


# --- retention: archived to files, reports kept, restored -----------------------------------------

def _facts_of(model, month):
    return model.objects.filter(day__gte=month, day__lt=metrics.next_month(month)).count()


@pytest.fixture
def archived_january(orgs, measures, tmp_path):
    month = dt.date(2026, 1, 1)
    request_rows, alert_rows = generated_month(2026, 1, ["SUPA", "SUPB"], requests=400, alerts=80)
    facts.load_text(requests=requests_csv(request_rows), alerts=alerts_csv(alert_rows))
    counts = (_facts_of(RequestFact, month), _facts_of(AlertFact, month))
    before = report.as_json(report.build(month, None))
    made = services.facts_archive(older_than_months=24, today=dt.date(2028, 3, 10), folder=tmp_path)
    return month, counts, before, {r.kind: r for r in made if r.month == month}


@pytest.mark.django_db
def test_an_archived_month_still_reports_and_comes_back_whole(archived_january, tmp_path):
    month, counts, before, archives = archived_january
    assert (archives["requests"].rows, archives["alerts"].rows) == counts and counts[0] > 300
    path = Path(archives["requests"].path)
    assert path == tmp_path / "slas_requestfact_2026_01.csv.gz"
    assert (tmp_path / "slas_requestfact_2026_01.csv.gz.sha256").read_text() == (
        f"{archives['requests'].sha256}  slas_requestfact_2026_01.csv.gz\n")
    assert not partitions.exists("slas_requestfact_2026_01") and not partitions.exists("slas_alertfact_2026_01")
    assert (_facts_of(RequestFact, month), _facts_of(AlertFact, month)) == (0, 0)
    # The report reads rollups and the month summary, which stay.
    assert report.as_json(report.build(month, None)) == before
    with pytest.raises(ValueError, match="archived"):
        rollups.rebuild_month(month)
    out = io.StringIO()
    call_command("slas_restore_facts", month="2026-01", stdout=out)
    assert "restored 2026-01 requests" in out.getvalue()
    assert (_facts_of(RequestFact, month), _facts_of(AlertFact, month)) == counts
    assert _indexes("slas_requestfact_2026_01") == ["brin (day)", "btree (id, day)", "btree (request_id, day)",
                                                    "btree (start_at)"]
    assert FactArchive.objects.filter(restored_at__isnull=True, month=month).count() == 0
    rollups.rebuild_month(month)  # the facts are back: a rebuild gives the same report
    assert report.as_json(report.build(month, None)) == before


@pytest.mark.django_db
def test_a_restore_refuses_an_archive_whose_checksum_does_not_match(archived_january):
    month, _counts, _before, archives = archived_january
    path = Path(archives["alerts"].path)
    with gzip.open(path, "rt") as handle:
        text = handle.read()
    with gzip.open(path, "wt") as handle:
        handle.write(text.replace("SUPA", "SUPB", 1) if "SUPA" in text else text + "\n")
    with pytest.raises(CommandError, match="checksum mismatch"):
        call_command("slas_restore_facts", month="2026-01", stdout=io.StringIO())
    # Nothing restored: neither kind's partition, and both archives still outstanding.
    assert not partitions.exists("slas_requestfact_2026_01") and not partitions.exists("slas_alertfact_2026_01")
    assert FactArchive.objects.filter(month=month, restored_at__isnull=True).count() == 2
