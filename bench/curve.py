"""The cost curve: the monthly report, the dashboard and the report page at growing sizes of one
month (``python -m bench --scale huge``: 1M, 10M, 100M requests; ``--scale curve-small``: 100k,
1M, 10M), in one run on one database. Each rung grows the month through the real loader
(slas_import_facts of generated CSV files, at most CHUNK rows a file) and then measures the three
readers; each figure is the ratio of a rung's time to the first rung's (target 1.2: they read
rollups, whose size follows days x users x measures, not traffic).

The dashboard is read as of the bench month's last evening (time travelled, as the tests do):
its tiles read "this month" and "the last hour", which would otherwise be an empty month.
"""
import datetime as dt
import io
import json
import time
from pathlib import Path

from bench import datagen
from bench.results import Figure, median

CURVES = {
    "huge": (1_000_000, 10_000_000, 100_000_000),
    "curve-small": (100_000, 1_000_000, 10_000_000),
    "curve-tiny": (10_000, 30_000, 100_000),  # the harness's own smoke run, a minute
}
CHUNK = 10_000_000  # rows per generated file: a 100M month would be ~20 GB of CSV at once
ALERT_SHARE = 10  # one alert per ten requests of the first rung, loaded once (PM3's rows exist)
TARGET_RATIO = 1.2
READERS = (("monthly_report", "slas_report --month (command, from MonthSummary)"),
           ("dashboard_page", "GET / as a DCC operator (every DCC tile)"),
           ("monthly_report_page", "GET /slas/?month= (report page with its charts)"))


def label(count):
    return f"{count // 1_000_000}m" if count >= 1_000_000 else f"{count // 1_000}k"


def grow(work, loaded, target, alerts, log):
    """Load requests numbered loaded+1..target (and ``alerts`` alerts) through slas_import_facts,
    CHUNK at a time. Returns (rows loaded, seconds generating, seconds loading)."""
    from django.core.management import call_command
    from django.db import connection

    generated = loading = 0.0
    rows = 0
    while loaded < target:
        count = min(CHUNK, target - loaded)
        requests_csv, alerts_csv = Path(work) / "requests.csv", Path(work) / "alerts.csv"
        started = time.perf_counter()
        datagen.write_requests_csv(requests_csv, count, first=loaded + 1)
        if alerts:
            datagen.write_alerts_csv(alerts_csv, alerts)
        generated += time.perf_counter() - started
        started = time.perf_counter()
        call_command("slas_import_facts", requests=str(requests_csv), alerts=str(alerts_csv) if alerts else None,
                     stdout=io.StringIO())
        loading += time.perf_counter() - started
        rows += count + alerts
        log(f"loaded requests {loaded + 1:,}..{loaded + count:,}{f' and {alerts:,} alerts' if alerts else ''}: "
            f"{(count + alerts) / (time.perf_counter() - started):,.0f} rows/s")
        requests_csv.unlink()
        alerts_csv.unlink(missing_ok=True)
        loaded, alerts = loaded + count, 0
    with connection.cursor() as cursor:
        # What autovacuum would have done by the time anyone reads the month.
        cursor.execute("ANALYZE")
    return rows, generated, loading


def measure(operator, reps):
    """{reader: (seconds, detail)}: median of ``reps`` slas_report runs; p95 of ``reps`` GETs of
    each page after a warm-up."""
    import time_machine
    from django.core.management import call_command

    from bench import cases

    month = f"{datagen.MONTH:%Y-%m}"
    times = []
    for _ in range(reps):
        out = io.StringIO()
        started = time.perf_counter()
        call_command("slas_report", month=month, stdout=out)
        times.append(time.perf_counter() - started)
        json.loads(out.getvalue())
    found = {"monthly_report": (median(times), f"median of {reps}")}
    evening = dt.datetime.combine(datagen.MONTH + dt.timedelta(days=29), dt.time(21, 0), tzinfo=dt.UTC)
    with time_machine.travel(evening, tick=True):
        client = cases._client(operator)
        for reader, url in (("dashboard_page", "/"), ("monthly_report_page", f"/slas/?month={month}")):
            value, counts, status = cases._measure_page(client, url, reps)
            if value is None:
                raise RuntimeError(f"GET {url} answered {status}")
            found[reader] = (value, f"p95 of {reps}, queries {sorted(set(counts))}")
    return found


def rollup_sizes():
    from slas.models import DailyRollup, MonthRollup, MonthSummary, RequestFact

    return {"request_facts": RequestFact.objects.count(), "daily_rollups": DailyRollup.objects.count(),
            "month_rollups": MonthRollup.objects.count(), "month_summaries": MonthSummary.objects.count()}


def run(name, work, operator, reps, log):
    """(figures, notes, rungs) of the curve ``name``."""
    ladder = CURVES[name]
    rungs, loaded = [], 0
    for rung, target in enumerate(ladder):
        rows, generated, loading = grow(work, loaded, target, ladder[0] // ALERT_SHARE if rung == 0 else 0, log)
        loaded = target
        found = measure(operator, reps)
        sizes = rollup_sizes()
        rungs.append({"requests": target, "label": label(target), "load_rows": rows, "generate_s": round(generated, 1),
                      "load_s": round(loading, 1), "load_rows_per_s": round(rows / loading) if loading else None,
                      **{reader: round(found[reader][0], 4) for reader, _ in READERS},
                      "details": {reader: found[reader][1] for reader, _ in READERS}, **sizes})
        log(f"rung {label(target)}: " + ", ".join(f"{reader} {found[reader][0]:.3f} s" for reader, _ in READERS)
            + f"; {sizes}")
    first = rungs[0]
    figures = []
    for reader, what in READERS:
        for row in rungs[1:]:
            ratio = row[reader] / first[reader] if first[reader] else None
            figures.append(Figure(
                f"curve_{reader.replace('-', '_')}_{row['label']}_ratio", ratio, f"x {first['label']} time",
                TARGET_RATIO, None,
                detail=f"{what}: {row[reader]:.4f} s at {row['requests']:,} requests ({row['details'][reader]}) "
                       f"against {first[reader]:.4f} s at {first['requests']:,} ({first['details'][reader]}); "
                       f"rollups then: {row['daily_rollups']:,} daily, {row['month_rollups']:,} monthly, "
                       f"{row['month_summaries']:,} summaries"))
    notes = [f"Curve {name}: one month ({datagen.MONTH:%B %Y}) grown to " + ", ".join(
        f"{r['requests']:,}" for r in rungs) + f" requests through slas_import_facts (files of at most {CHUNK:,} rows "
        f"generated by COPY; {rungs[0]['load_rows'] - rungs[0]['requests']:,} alerts with the first rung). Loading: "
        + "; ".join(f"to {r['label']} {r['load_rows']:,} rows in {r['load_s']} s ({r['load_rows_per_s']:,} rows/s, "
                    f"files generated in {r['generate_s']} s)" for r in rungs) + "."]
    return figures, notes, rungs


def write_chart(path, name, rungs, run_at):
    """The curve as a plotly chart (seconds per reader against requests, log x), an HTML file that
    loads the portal's vendored plotly.js (no CDN) by its path in the repository."""
    import plotly.graph_objects as go

    figure = go.Figure()
    x = [r["requests"] for r in rungs]
    for reader, what in READERS:
        figure.add_trace(go.Scatter(x=x, y=[r[reader] for r in rungs], mode="lines+markers", name=what))
    figure.update_layout(title=f"Cost curve ({name}, {run_at}): seconds per read against requests in the month",
                         xaxis={"type": "log", "title": "requests in the month"},
                         yaxis={"title": "seconds (report: median; pages: p95)", "rangemode": "tozero"})
    figure.write_html(str(path), include_plotlyjs="../../static/vendor/plotly-4.1.1/plotly.min.js", full_html=True)
