"""Facts in (files), rollups, and the JSON report checked against a direct computation."""
import datetime as dt
import io
import json
import math

import pytest
from django.core.management import call_command

from slas import facts, metrics, report, rollups
from slas.models import AlertFact, DailyRollup, Measure, MonthRollup, RequestFact
from tests.slas.factories import alert_row, alerts_csv, generated_month, request_row, requests_csv

UTC = dt.UTC
LONDON = metrics.LONDON


def _report(month, organisation=None):
    return report.as_json(report.build(month, organisation))


def _row(data, code, region=None):
    return next(m for m in data["measures"] if m["code"] == code and m["type"] in ("on_demand", "alert")
                and m["region"] == region)


def test_boundary_is_within_and_missing_end_is_a_miss(orgs, measures):
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    rows = [
        request_row("on-boundary", "SUPA", start, outbound=4.0),  # SM1.1 exactly 4 s: within
        request_row("just-over", "SUPA", start, outbound=4.000001),
        request_row("no-end", "SUPA", start, missing=("dsp_sent_at",)),
        request_row("rejected", "SUPA", start, outcome="E19",
                    missing=("dsp_sent_at", "wan_delivered_at", "device_responded_at", "wan_returned_at",
                             "responded_at")),
    ]
    facts.load_text(requests=requests_csv(rows))
    data = _report(dt.date(2025, 6, 1))
    sm11 = _row(data, "SM1.1")
    assert (sm11["measured"], sm11["within"]) == (3, 1)
    assert sm11["achieved_pct"] == "33.33" and sm11["met"] is False
    assert RequestFact.objects.get(request_id="rejected").measured is False


def test_han_time_is_never_counted(orgs, measures):
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    # 24 s over the WAN plus an hour on the HAN: CSP (25 s) and end-to-end (30 s) are both met.
    facts.load_text(requests=requests_csv([request_row("slow-meter", "SUPA", start, outbound=1, csp=24, han=3600,
                                                       inbound=0.5)]))
    fact = RequestFact.objects.get()
    assert fact.csp_us == 24_000_000
    assert fact.end_to_end_us == 25_500_000
    data = _report(dt.date(2025, 6, 1))
    assert _row(data, "SM4.1", "north")["within"] == 1
    assert _row(data, "PM1")["within"] == 1


@pytest.mark.parametrize("local_start, month, hours", [
    (dt.datetime(2025, 10, 26, 0, 30), dt.date(2025, 10, 1), 745),  # clocks go back: 25-hour day
    (dt.datetime(2025, 3, 30, 0, 30), dt.date(2025, 3, 1), 743),  # clocks go forward: 23-hour day
])
def test_intervals_and_months_across_clock_changes(orgs, measures, local_start, month, hours):
    start, end = metrics.month_bounds(month)
    assert (end - start) == dt.timedelta(hours=hours)
    begin = local_start.replace(tzinfo=LONDON)
    # A request started before the change and answered after it: the interval is real elapsed
    # time (UTC arithmetic), not the wall-clock difference.
    wall_later = (begin.replace(tzinfo=None) + dt.timedelta(hours=2)).replace(tzinfo=LONDON)
    durations = metrics.request_durations(
        start_at=begin, received_at=begin, dsp_sent_at=wall_later, wan_delivered_at=None,
        device_responded_at=None, wan_returned_at=None, responded_at=None)
    expected = (wall_later.astimezone(UTC) - begin.astimezone(UTC)) // metrics.US
    assert durations["dsp_outbound_us"] == expected
    assert expected != 2 * 3600 * 1_000_000
    # The last minutes of the month in London belong to it even when UTC has moved on, and vice versa.
    last_local = (dt.datetime.combine(metrics.next_month(month), dt.time()) - dt.timedelta(minutes=10)).replace(
        tzinfo=LONDON)
    first_next = dt.datetime.combine(metrics.next_month(month), dt.time(0, 10)).replace(tzinfo=LONDON)
    rows = [request_row("late", "SUPA", last_local.astimezone(UTC)),
            request_row("next", "SUPA", first_next.astimezone(UTC))]
    facts.load_text(requests=requests_csv(rows))
    assert _row(_report(month), "PM1")["measured"] == 1
    assert _row(_report(metrics.next_month(month)), "PM1")["measured"] == 1
    assert RequestFact.objects.get(request_id="late").day == last_local.date()


def test_import_with_a_bad_row_loads_nothing(orgs, measures, tmp_path):
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    good = [request_row(f"ok-{n}", "SUPA", start) for n in range(3)]
    bad = request_row("bad", "SUPA", start)
    bad["dsp_sent_at"] = "2025-06-10 09:00:01"  # no offset
    unknown = request_row("who", "NOBODY", start)
    path = tmp_path / "requests.csv"
    path.write_text(requests_csv([*good, bad, unknown]))
    alerts = tmp_path / "alerts.csv"
    alerts.write_text(alerts_csv([alert_row("al-1", "SUPA", start)]))
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("slas_import_facts", requests=str(path), alerts=str(alerts), stdout=out)
    text = out.getvalue()
    assert "requests line 5: dsp_sent_at" in text
    assert "requests line 6: organisation" in text
    assert "nothing loaded" in text
    assert RequestFact.objects.count() == 0 and AlertFact.objects.count() == 0
    assert DailyRollup.objects.count() == 0 and MonthRollup.objects.count() == 0
    # Loading the same file twice is refused too (the ids are already there).
    path.write_text(requests_csv(good))
    call_command("slas_import_facts", requests=str(path), stdout=io.StringIO())
    with pytest.raises(facts.FactsRejected) as rejected:
        facts.load_files(requests=str(path))
    assert "already loaded" in rejected.value.errors[0][2]
    assert RequestFact.objects.count() == 3


def _direct(request_rows, alert_rows, month):
    """The report computed straight from the raw rows, independently of slas.metrics."""
    start, end = metrics.month_bounds(month)

    def t(value):
        return dt.datetime.fromisoformat(value) if value else None

    results = {}
    for measure in Measure.objects.all():
        source = alert_rows if measure.measurement_type == "alert" else request_rows
        for row in source:
            clock = t(row.get("start_at") or row.get("raised_at"))
            if not (start <= clock < end):
                continue
            if measure.measurement_type != "alert":
                if row["measurement_type"] != measure.measurement_type:
                    continue
                if row["outcome"] != "I0" and not row["dsp_sent_at"] and row["measurement_type"] != "dcc_only":
                    continue
                t0, t1, t2, t3, t4, t5 = (t(row[c]) for c in ("received_at", "dsp_sent_at", "wan_delivered_at",
                                                              "device_responded_at", "wan_returned_at",
                                                              "responded_at"))
                han = (t3 - t2) if t2 and t3 else dt.timedelta(0)
                legs = {"dsp_outbound": (t0 and max(t0, clock), t1, dt.timedelta(0)),
                        "csp": (t1, t4, han), "dsp_inbound": (t4, t5, dt.timedelta(0)),
                        "dsp_total": (t0 and max(t0, clock), t5, dt.timedelta(0)),
                        "end_to_end": (clock, t5, han)}
            else:
                a1, a2, a3 = clock, t(row["wan_received_at"]), t(row["delivered_at"])
                legs = {"alert_csp": (a1, a2, dt.timedelta(0)), "alert_dsp": (a2, a3, dt.timedelta(0)),
                        "alert_end_to_end": (a1, a3, dt.timedelta(0))}
            begin, finish, minus = legs[measure.interval]
            if begin is None:
                continue
            if measure.provider == "CSP":
                key_region = row["region"]
            else:
                key_region = None
            bucket = results.setdefault((measure.code, measure.measurement_type, key_region), [0, 0, []])
            bucket[0] += 1
            if finish is None:
                continue
            seconds = max(dt.timedelta(0), finish - begin - minus).total_seconds()
            bucket[2].append(seconds)
            if seconds <= float(measure.target_seconds):
                bucket[1] += 1
    return results


def test_json_report_equals_direct_computation_on_a_generated_month(orgs, measures):
    month = dt.date(2025, 10, 1)  # includes the October clock change
    request_rows, alert_rows = generated_month(2025, 10, ["SUPA", "SUPB"], requests=3000, alerts=800)
    facts.load_text(requests=requests_csv(request_rows), alerts=alerts_csv(alert_rows))
    out = io.StringIO()
    call_command("slas_report", month="2025-10", format="json", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) == {"month", "measures", "incidents", "availability", "credits", "statements"}
    assert set(data["measures"][0]) == {"code", "type", "provider", "region", "measured", "within", "achieved_pct",
                                        "target_pct", "minimum_pct", "met", "p99_seconds"}
    direct = _direct(request_rows, alert_rows, month)
    compared = 0
    for row in data["measures"]:
        measured, within, values = direct.get((row["code"], row["type"], row["region"]), (0, 0, []))
        assert (row["measured"], row["within"]) == (measured, within), row
        if len(values) >= 100:
            exact = _percentile_cont(values, 0.99)
            assert abs(float(row["p99_seconds"]) - exact) <= 0.006 * exact + 0.0005, row
            compared += 1
    assert compared >= 15
    # A rebuild from the facts gives exactly the same report as the incremental rollups.
    rollups.rebuild_month(month)
    assert _report(month) == data | {"month": "2025-10"}


def test_self_service_report_covers_only_own_traffic(orgs, measures):
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    rows = [request_row(f"a{n}", "SUPA", start) for n in range(3)] + [request_row("b0", "SUPB", start, outbound=9)]
    facts.load_text(requests=requests_csv(rows))
    mine = _report(dt.date(2025, 6, 1), orgs["SUPA"])
    assert _row(mine, "SM1.1")["measured"] == 3 and _row(mine, "SM1.1")["within"] == 3
    assert [s["organisation"] for s in mine["statements"]] == ["SUPA"]
    everyone = _report(dt.date(2025, 6, 1))
    assert _row(everyone, "SM1.1")["measured"] == 4


def test_rows_the_fast_load_refuses_are_named_by_line(orgs, measures):
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    rows = [request_row(f"ok-{n}", "SUPA", start) for n in range(3)]
    rows.append(request_row("ok-1", "SUPA", start))  # line 5: the id again
    impossible = request_row("month-13", "SUPA", start)
    impossible["responded_at"] = "2025-13-10T09:00:09+00:00"  # looks like ISO 8601, is no time
    rows.append(impossible)  # line 6
    with pytest.raises(facts.FactsRejected) as rejected:
        facts.load_text(requests=requests_csv(rows))
    messages = {line: message for _label, line, message in rejected.value.errors}
    assert "appears twice in the file" in messages[5]
    assert RequestFact.objects.count() == 0 and MonthRollup.objects.count() == 0
    # Alone, the impossible time is still named with its line and column.
    with pytest.raises(facts.FactsRejected) as rejected:
        facts.load_text(requests=requests_csv([rows[0], impossible]))
    assert [(line, message.split(":")[0]) for _label, line, message in rejected.value.errors] == [(3, "responded_at")]
    assert RequestFact.objects.count() == 0


def test_loading_in_two_files_merges_the_month_histograms(orgs, measures):
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    first = [request_row(f"a{n}", "SUPA", start, outbound=1 + n / 10) for n in range(20)]
    second = [request_row(f"b{n}", "SUPA", start, outbound=1 + n / 10) for n in range(20)]
    facts.load_text(requests=requests_csv(first))
    facts.load_text(requests=requests_csv(second))
    sm11 = MonthRollup.objects.get(measure__code="SM1.1", measure__measurement_type="on_demand")
    assert sm11.measured == 40 and sum(sm11.histogram.values()) == 40
    assert all(count % 2 == 0 for count in sm11.histogram.values())  # every bucket got both halves
    data = _report(dt.date(2025, 6, 1))
    rollups.rebuild_month(dt.date(2025, 6, 1))
    assert _report(dt.date(2025, 6, 1)) == data


def test_a_month_replaced_from_a_file_keeps_only_the_new_facts(orgs, measures, tmp_path):
    # Both databases: PostgreSQL swaps the month's partition (tests/slas/test_partitions.py), SQLite
    # deletes and inserts; either way the month's facts and rollups are the new file's alone.
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    facts.load_text(requests=requests_csv([request_row(f"a{n}", "SUPA", start) for n in range(3)]))
    path = tmp_path / "june.csv"
    path.write_text(requests_csv([request_row(f"a{n}", "SUPA", start, outbound=9) for n in range(2)]))
    out = io.StringIO()
    call_command("slas_import_facts", requests=str(path), replace=True, stdout=out)
    assert "loaded 2 requests" in out.getvalue()
    assert sorted(RequestFact.objects.values_list("request_id", flat=True)) == ["a0", "a1"]
    sm11 = _row(_report(dt.date(2025, 6, 1)), "SM1.1")
    assert (sm11["measured"], sm11["within"]) == (2, 0)


def _percentile_cont(values, fraction):
    """PostgreSQL's percentile_cont: linear interpolation at position fraction x (n - 1)."""
    values = sorted(values)
    position = fraction * (len(values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (position - low) * (values[high] - values[low])


def test_report_percentiles_follow_percentile_cont_within_half_a_bucket():
    import random

    rng = random.Random(7)
    for _ in range(60):
        values = [int(rng.lognormvariate(14, 1.5)) + 2000 for _ in range(rng.randint(1, 3000))]
        histogram = {}
        for value in values:
            key = str(metrics.bucket(value))
            histogram[key] = histogram.get(key, 0) + 1
        for fraction, got in zip((0.5, 0.95, 0.99), metrics.percentiles_cont(histogram, (0.5, 0.95, 0.99)),
                                 strict=True):
            exact = _percentile_cont(values, fraction) / 1e6
            assert abs(got - exact) <= 0.005 * exact + 1e-9, (fraction, len(values), got, exact)
    assert metrics.percentiles_cont({}, (0.99,)) == [None]
    assert metrics.percentiles_cont({"100": 1}, (0.5, 0.99)) == [metrics.bucket_seconds(100)] * 2


def test_histogram_bucket_error():
    import random

    rng = random.Random(3)
    for _ in range(50):
        values = [int(rng.lognormvariate(14, 1.2)) for _ in range(rng.randint(1, 400))]
        # every value is within half a bucket (0.5%) of its bucket's representative value
        for value in values:
            assert abs(metrics.bucket_seconds(metrics.bucket(value)) * 1e6 - value) <= 0.005 * value


def test_per_user_results_add_up_to_the_national_ones(orgs, measures):
    month = dt.date(2025, 10, 1)
    request_rows, alert_rows = generated_month(2025, 10, ["SUPA", "SUPB"], requests=600, alerts=100)
    facts.load_text(requests=requests_csv(request_rows), alerts=alerts_csv(alert_rows))
    built = report.build(month)
    assert set(built["per_user"]) == {orgs["SUPA"].pk, orgs["SUPB"].pk}
    for national in built["measures"]:
        mine = [r for rows in built["per_user"].values() for r in rows
                if r["measure"].pk == national["measure"].pk and r["region"] == national["region"]]
        assert sum(r["measured"] for r in mine) == national["measured"]
        assert sum(r["within"] for r in mine) == national["within"]
        merged = {}
        for r in mine:
            metrics.merge_histogram(merged, r["histogram"])
        assert merged == national["histogram"]


def test_the_report_reads_a_summary_kept_in_step_with_the_rollups(orgs, measures, django_assert_max_num_queries):
    from slas.models import MonthSummary, MonthSummaryStamp

    month = dt.date(2025, 6, 1)
    start = dt.datetime(2025, 6, 10, 9, 0, tzinfo=UTC)
    facts.load_text(requests=requests_csv([request_row(f"s{n}", "SUPA", start, outbound=1 + n) for n in range(5)]))
    # The load computed the summary: a read finds it fresh and merges nothing.
    stamp = MonthSummaryStamp.objects.get(month=month)
    assert MonthSummary.objects.filter(month=month, organisation__isnull=True).exists()
    assert rollups.refresh_summaries() == []
    with django_assert_max_num_queries(12):
        sm11 = _row(_report(month), "SM1.1")
    assert (sm11["measured"], sm11["within"]) == (5, 4)  # 1..4 s within the 4 s target, 5 s not
    # A rollup written behind the loaders' back (an admin edit, a restore) is noticed by the next
    # read: the fingerprint moved, so the summary is recomputed before the report is built.
    rollup = MonthRollup.objects.get(month=month, measure__code="SM1.1", measure__measurement_type="on_demand")
    MonthRollup.objects.create(month=month, measure=rollup.measure, provider=rollup.provider, region="south",
                               organisation=orgs["SUPB"], measured=3, within=3, histogram={"10": 3})
    sm11 = _row(_report(month), "SM1.1")
    assert (sm11["measured"], sm11["within"]) == (8, 7)
    assert MonthSummaryStamp.objects.get(month=month).fingerprint != stamp.fingerprint
    supb = _row(_report(month, orgs["SUPB"]), "SM1.1")
    assert (supb["measured"], supb["within"], supb["p99_seconds"] is not None) == (3, 3, True)
    # Rollups gone (a month rebuilt from no facts): the summary goes with them.
    MonthRollup.objects.filter(month=month).delete()
    assert rollups.refresh_summaries() == [month]
    assert not MonthSummary.objects.filter(month=month).exists()


@pytest.mark.django_db
def test_a_refused_replacement_names_rows_deep_in_the_file_by_line_and_keeps_the_month(orgs, measures):
    # The PostgreSQL path numbers the staged rows only when a file is refused (from their order in
    # the staging table); a cell spanning two lines of text is still one row, as csv reads it.
    start = dt.datetime(2034, 9, 2, 9, 0, tzinfo=UTC)
    old = [request_row(f"old{n}", "SUPA", start + dt.timedelta(minutes=n)) for n in range(3)]
    facts.load_text(requests=requests_csv(old))
    rows = [request_row(f"new{n}", "SUPA" if n % 2 else "SUPB", start + dt.timedelta(minutes=n)) for n in range(2500)]
    rows[100]["device_id"] = "00-DB-12\n34-56"
    rows[1200]["received_at"] = "2034-09-02T09:00:00"
    rows[2400]["request_id"] = "new7"
    with pytest.raises(facts.FactsRejected) as rejected:
        facts.load_text(requests=requests_csv(rows), replace=True)
    assert [(label, line, message) for label, line, message in rejected.value.errors] == [
        ("requests", 1202, "received_at: '2034-09-02T09:00:00' is not an ISO 8601 time with an offset"),
        ("requests", 2402, "request_id: 'new7' appears twice in the file")]
    month = RequestFact.objects.filter(day__gte=dt.date(2034, 9, 1), day__lt=dt.date(2034, 10, 1))
    assert sorted(month.values_list("request_id", flat=True)) == ["old0", "old1", "old2"]
    # Put right, the same file replaces the month whole.
    rows[1200]["received_at"], rows[2400]["request_id"] = rows[1200]["start_at"], "new2400"
    assert facts.load_text(requests=requests_csv(rows), replace=True).requests == 2500
    assert month.count() == 2500 and not month.filter(request_id__startswith="old").exists()
    assert month.get(request_id="new100").device_id == "00-DB-12\n34-56"
