"""python -m bench [--scale tiny|small|full]: a throwaway PostgreSQL 15, data generated with COPY,
every benchmark against its baseline in this process, results in bench/results/latest.{json,md}.
``--scale huge`` / ``--scale curve-small``: the cost curve instead (bench.curve), results in
bench/results/curve-<scale>.{json,md,html}.

Django is configured only after the server is up (DATABASE_URL must be known first), so the
portal's own settings module runs unchanged, with DEBUG off as in production.
"""
import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCALES = {
    # requests, alerts, devices, batch size, one-task-per-request sample, bulk_create sample, page reps,
    # report reps, raw-report reps
    "tiny": dict(requests=5_000, alerts=1_000, devices=2_000, batch=100, baseline_batch=20, sample=1_000,
                 page_reps=3, report_reps=3, raw_reps=1, batch_timeout=60, fold=20_000, fold_sample=2_000),
    "small": dict(requests=1_000_000, alerts=200_000, devices=100_000, batch=10_000, baseline_batch=500,
                  sample=20_000, page_reps=20, report_reps=7, raw_reps=3, batch_timeout=600, fold=200_000,
                  fold_sample=20_000),
    "full": dict(requests=10_000_000, alerts=2_000_000, devices=1_000_000, batch=100_000, baseline_batch=2_000,
                 sample=50_000, page_reps=30, report_reps=7, raw_reps=1, batch_timeout=900, fold=500_000,
                 fold_sample=20_000),
}


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    from bench.curve import CURVES

    parser.add_argument("--scale", choices=sorted(SCALES) + sorted(CURVES), default="full")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results"),
                        help="folder for latest.json and latest.md (default bench/results)")
    parser.add_argument("--only", default="", help="comma-separated subset: ingest,report,pages,fold,selfservice,batch")
    return parser.parse_args(argv)


def start_server(folder):
    url = subprocess.run([str(ROOT / "scripts" / "pg.sh"), "start", folder], check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()[-1]
    return url


def stop_server(folder):
    subprocess.run([str(ROOT / "scripts" / "pg.sh"), "stop", folder], check=False, capture_output=True)


def configure_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # production settings: DEBUG off (no query log, no debug templates), local host names
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["API_THROTTLE_USER"] = "100000/min"
    # The batch runs the simulator with latency set to zero: every modelled leg (DSP, HAN,
    # CSP, DCC-only) is instant, no sleeps, no random failures, so what is timed is the portal's
    # own work and every request ends cleanly.
    zero = {"median": 0, "sigma": 0}
    os.environ["ADAPTER_SIMULATOR"] = json.dumps({
        "send_sleep": 0, "dsp_out": zero, "dsp_in": zero, "han": zero, "dcc_only": zero,
        "csp": {region: zero for region in ("north", "central", "south")},
        "fail_e20": {"north": 0, "central": 0, "south": 0}, "fail_e21": {"north": 0, "central": 0, "south": 0}})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging
    import warnings

    logging.getLogger("django-q").setLevel(logging.WARNING)  # one line per enqueued task otherwise
    warnings.filterwarnings("ignore", message="No directory at")  # static files are not collected here


class Cluster:
    """The real django-q2 clusters, each `manage.py qcluster` in its own process group: the main
    one and the "urgent" one (Q_CLUSTER_NAME=urgent) that sends single service requests."""

    NAMES = ("", "urgent")

    def __init__(self):
        self.processes = []
        self.log_path = None

    @property
    def process(self):
        return self.processes[0] if self.processes else None

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def start(self, log_path):
        self.log_path = log_path
        for name in self.NAMES:
            env = {key: value for key, value in os.environ.items() if key != "Q_CLUSTER_NAME"}
            if name:
                env["Q_CLUSTER_NAME"] = name
            with open(log_path, "ab") as handle:
                self.processes.append(subprocess.Popen(
                    [sys.executable, str(ROOT / "manage.py"), "qcluster"], cwd=ROOT, env=env, stdout=handle,
                    stderr=subprocess.STDOUT, start_new_session=True))
        time.sleep(3)
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"qcluster exited at start ({process.returncode}): {self.tail()}")

    def tail(self):
        try:
            return Path(self.log_path).read_text(errors="replace")[-800:]
        except (OSError, TypeError):
            return ""

    def alive(self):
        return bool(self.processes) and all(p.poll() is None for p in self.processes)

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []


def main(argv=None):
    args = parse(argv if argv is not None else sys.argv[1:])
    if args.scale not in SCALES:
        return main_curve(args)
    scale = SCALES[args.scale]
    only = {s for s in args.only.split(",") if s} or {"ingest", "report", "pages", "fold", "selfservice", "batch"}
    folder = tempfile.mkdtemp(prefix="portal-bench-pg.")
    run_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    figures, notes = [], []
    cluster = Cluster()
    try:
        log(f"scale {args.scale}: starting PostgreSQL 15 in {folder}")
        url = start_server(folder)
        configure_django(url)
        load_before = os.getloadavg()
        figures, notes = run(args, scale, only, folder, cluster)
        # The machine may be shared: say how busy it was, so the figures can be read fairly.
        notes.append("Load average (1, 5, 15 min) at the start {:.2f} {:.2f} {:.2f}, at the end {:.2f} {:.2f} {:.2f} "
                     "on this machine's CPUs.".format(*load_before, *os.getloadavg()))
    finally:
        cluster.stop()
        stop_server(folder)
    from bench import results

    document = results.write(args.output, run_at=run_at, scale=args.scale, figures=figures, notes=notes)
    for row in document["results"]:
        log(f"{row['name']}: {row['value']} {row['unit']} (target {row['target']}, baseline {row['baseline']}, "
            f"ratio {row['ratio']}) {'met' if row['met'] else 'MISSED'}")
    log(f"wrote {Path(args.output) / 'latest.json'} and latest.md")
    return 0


def main_curve(args):
    """The cost curve (bench.curve) on its own throwaway server."""
    folder = tempfile.mkdtemp(prefix="portal-bench-pg.")
    run_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    try:
        log(f"cost curve {args.scale}: starting PostgreSQL 15 in {folder}")
        configure_django(start_server(folder))
        from django.core.management import call_command

        from bench import curve, datagen

        load_before = os.getloadavg()
        call_command("migrate", verbosity=0, interactive=False)
        operator, _supplier = datagen.organisations_and_people()
        work = Path(folder) / "files"
        work.mkdir()
        figures, notes, rungs = curve.run(args.scale, work, operator, CURVE_REPS, log)
        notes.append(f"Whole run {time.perf_counter() - started:,.0f} s. Load average (1, 5, 15 min) at the start "
                     "{:.2f} {:.2f} {:.2f}, at the end {:.2f} {:.2f} {:.2f}.".format(*load_before, *os.getloadavg()))
    finally:
        stop_server(folder)
    from bench import results

    stem = f"curve-{args.scale.removeprefix('curve-')}"
    document = results.write(args.output, run_at=run_at, scale=args.scale, figures=figures, notes=notes, stem=stem,
                             extra={"rungs": rungs})
    curve.write_chart(Path(args.output) / f"{stem}.html", args.scale, rungs, run_at)
    for row in document["results"]:
        log(f"{row['name']}: {row['value']} {row['unit']} (target {row['target']}) {'met' if row['met'] else 'MISSED'}")
    log(f"wrote {Path(args.output) / stem}.json, .md and .html")
    return 0


CURVE_REPS = 7


def run(args, scale, only, folder, cluster):
    from django.core.management import call_command

    from bench import cases, datagen
    from bench.procmem import PeakTracker
    from bench.results import Figure

    tracker = PeakTracker()
    postmaster = int((Path(folder) / "data" / "postmaster.pid").read_text().split()[0])

    def sample():
        tracker.sample_self()
        tracker.sample_tree("PostgreSQL (largest backend)", postmaster)

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    log(f"migrated in {time.perf_counter() - started:.1f} s")
    operator, supplier = datagen.organisations_and_people()
    figures, notes = [], []
    work = Path(folder) / "files"
    work.mkdir()
    requests_csv, alerts_csv = work / "requests.csv", work / "alerts.csv"
    started = time.perf_counter()
    datagen.devices(scale["devices"])
    log(f"{scale['devices']:,} devices in {time.perf_counter() - started:.1f} s")
    if not only & {"ingest", "report", "pages", "selfservice"}:
        scale = {**scale, "requests": 1000, "alerts": 100}  # batch alone: a token month of facts
    started = time.perf_counter()
    datagen.write_requests_csv(requests_csv, scale["requests"])
    datagen.write_alerts_csv(alerts_csv, scale["alerts"])
    size = (requests_csv.stat().st_size + alerts_csv.stat().st_size) / 1e6
    log(f"fact files ({size:,.0f} MB) in {time.perf_counter() - started:.1f} s")
    notes.append(f"Data: {scale['requests']:,} request facts and {scale['alerts']:,} alert facts in "
                 f"{datagen.MONTH:%B %Y} ({size:,.0f} MB of CSV generated by PostgreSQL COPY), "
                 f"{scale['devices']:,} devices (INSERT ... SELECT generate_series), 40 service users.")

    def attempt(label, function):
        try:
            result = function()
            sample()
            return result
        except Exception as exc:  # a broken benchmark is reported as not measured, with its reason
            traceback.print_exc()
            notes.append(f"{label} not measured: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            return None

    # 2 first: the import is how the month's facts get in.
    started = time.perf_counter()
    found = attempt("fact ingest", lambda: cases.ingest(requests_csv, alerts_csv, scale["requests"], scale["alerts"],
                                                         scale["sample"]))
    figures += found or [Figure("fact_ingest_rows_per_s", None, "rows/s", None, None, higher=True,
                                detail="not measured (see notes); its target is half copy_ceiling_rows_per_s")]
    log(f"ingest done in {time.perf_counter() - started:.1f} s")
    report_baseline = None
    if "report" in only or "pages" in only:
        found = attempt("monthly report", lambda: cases.report(scale["report_reps"], scale["raw_reps"]))
        if found:
            figures += found[0]
            report_baseline = found[0][0].baseline
        else:
            figures.append(Figure("monthly_report_s", None, "s", 0.25, detail="not measured (see notes)"))
        log("report done")
    if "pages" in only:
        found = attempt("device pages", lambda: cases.device_pages(operator, scale["devices"], scale["page_reps"]))
        figures += found or [Figure("device_list_first_page_p95_s", None, "s", 0.1, detail="not measured")]
        found = attempt("portal pages", lambda: cases.portal_pages(operator, scale["page_reps"], report_baseline))
        figures += found or [Figure("dashboard_page_p95_s", None, "s", 0.3, detail="not measured")]
        log("pages done")
    if "fold" in only:
        # Before the self-service reports: its records are in the following month and stay, as
        # the fold's facts do, but the adapter's table is then what those reports read.
        alerts = scale["fold"] // 5
        found = attempt("fold", lambda: cases.fold(scale["fold"], alerts, scale["fold_sample"]))
        figures.append(found or Figure("fold_facts_per_s", None, "facts/s", cases.FOLD_TARGET, None, higher=True,
                                       detail="not measured (see notes)"))
        log("fold done")
    if "selfservice" in only:
        # The month of service requests in the adapter's table (the facts above are slas's copy):
        # as many as the month's request facts, before the batch adds its own.
        started = time.perf_counter()
        written = datagen.service_requests(scale["requests"])
        log(f"{written:,} service requests in {time.perf_counter() - started:.1f} s")
        notes.append(f"Self-service reports: {written:,} service requests of {datagen.MONTH:%B %Y} in the "
                     "adapter's table (INSERT ... SELECT generate_series, each to a register device by its "
                     "supplier), read for the bench supplier BU01.")
        found = attempt("self-service reports", lambda: cases.self_service_reports(supplier, scale["report_reps"]))
        figures += found or [Figure("self_service_rsmi_001_p95_s", None, "s", cases.SELF_SERVICE_TARGET_S,
                                    detail="not measured (see notes)")]
        log("self-service reports done")
    if "batch" in only:
        def batch():
            cluster.start(work / "qcluster.log")
            try:
                log("cluster started")
                return cases.batch(supplier, scale["devices"], scale["batch"], scale["baseline_batch"], cluster,
                                   tracker, scale["batch_timeout"])
            finally:
                sample()
                cluster.stop()
        found = attempt("batch", batch)
        if found:
            figures += found[0]
            notes += found[1]
        else:
            figures.append(Figure("batch_100k_upload_to_terminal_s", None, "s", 60, detail="not measured (see notes)"))
        log("batch done, cluster stopped")
    sample()
    figures.append(cases.rss_figure(tracker))
    return figures, notes
