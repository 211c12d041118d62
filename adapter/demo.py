"""Demo data of the adapter: the catalogue and a month of simulated traffic (requests across SRVs,
suppliers and regions, some failing, and alerts) written by bulk inserts with simulated
timestamps, not by running tasks, so that `make run` stays fast. Idempotent."""
import datetime as dt
import random
import time
import zoneinfo

from django.db import transaction
from django.utils import timezone

from adapter import catalogue, simulator
from adapter.models import Alert, ServiceRequest, ServiceRequestVariant
from adapter.tasks import bulk_insert

LONDON = zoneinfo.ZoneInfo("Europe/London")
REQUESTS = 100_000  # 200,000 took 120 s wall (30 s CPU) on a busy 2-core box: halved to fit make run
DEMO_COUNTER_BASE = 10 ** 12  # demo ids use counters far above anything a user reaches
# Share of traffic by SRV (about 60% meter reads, as on the real network)
MIX = [("4.1.1", 30), ("4.17", 15), ("4.8.1", 10), ("11.2", 5), ("7.4", 8), ("7.5", 5), ("7.6", 4), ("7.12", 2),
       ("6.2.7", 6), ("3.1", 5), ("8.2", 6), ("7.2", 2), ("11.3", 2)]
PARAMS = {"4.17": {"days": 7}, "4.8.1": {"days": 1}, "7.5": {"switch": 1, "duration": 30}, "7.6": {"switch": 1},
          "7.12": {"seconds": 900}, "3.1": {"message": "Your meter will update tonight"},
          "11.3": {"firmware_hash": "5E" * 32}}


def _month_bounds(today):
    """From the first of last month to a few minutes ago: a whole month for the monthly report and the
    statements, and this month so far for the dashboards' month-to-date tiles."""
    first_this = today.replace(day=1)
    last_month_end = first_this - dt.timedelta(days=1)
    start = dt.datetime(last_month_end.year, last_month_end.month, 1, tzinfo=LONDON)
    end = max(timezone.now() - dt.timedelta(minutes=10), dt.datetime(first_this.year, first_this.month, 1,
                                                                     tzinfo=LONDON))
    return start, end


def load(stdout=None, requests=REQUESTS):
    from inventory.models import Device
    from portal.models import Organisation

    catalogue.load(ServiceRequestVariant)
    srvs = {s.code: s for s in ServiceRequestVariant.objects.filter(code__in=[c for c, _ in MIX])}
    devices = list(Device.objects.filter(status="commissioned", device_type__in=["ESME", "GSME"],
                                         supplier__kind="service_user").exclude(supplier__user_id="")
                   .values_list("pk", "device_id", "device_type", "supplier_id", "region")[:5000])
    if not devices:
        if stdout:
            stdout.write("adapter: no commissioned meters to send requests to; traffic skipped")
        return
    orgs = {o.pk: o for o in Organisation.objects.filter(pk__in={d[3] for d in devices})}
    start, end = _month_bounds(timezone.localdate())
    first_id = f"{orgs[devices[0][3]].user_id}:{devices[0][1]}:{DEMO_COUNTER_BASE}"
    if ServiceRequest.objects.filter(request_id=first_id).exists():
        if stdout:
            stdout.write("adapter: demo traffic already loaded")
        return
    began = time.monotonic()
    rng = random.Random(2013)
    codes = [c for c, _ in MIX if c in srvs]
    weights = [w for c, w in MIX if c in srvs]
    seconds = (end - start).total_seconds()
    by_type = {}
    for device in devices:
        by_type.setdefault(device[2], []).append(device)
    rows, made = [], 0
    for n in range(requests):
        srv = srvs[rng.choices(codes, weights)[0]]
        pool = [d for t in srv.device_types for d in by_type.get(t, [])] if not srv.non_device else devices
        pool = pool or devices
        device = devices[0] if n == 0 else pool[rng.randrange(len(pool))]
        org = orgs[device[3]]
        received = start + dt.timedelta(seconds=rng.random() * seconds)
        outcome = simulator.simulate(srv_code=srv.code, non_device=srv.non_device, region=device[4], start=received,
                                     rng=rng)
        state = "responded" if outcome.code == "I0" else "failed"
        times = outcome.times
        completed = times.get("responded_at") or received
        if rng.random() < 0.002:  # a few never answer: timed out
            state, outcome.code = "timed_out", "E21"
            times = {k: v for k, v in times.items() if k in ("dsp_sent_at", "wan_delivered_at")}
            completed = received + dt.timedelta(minutes=5)
        rows.append(ServiceRequest(
            request_id=f"{org.user_id}:{device[1]}:{DEMO_COUNTER_BASE + n}",
            srv_id=srv.pk, organisation_id=org.pk, device_id=device[0], device_ref=device[1], region=device[4],
            measurement_type=srv.measurement_type, state=state, outcome=outcome.code, message=outcome.message,
            params=PARAMS.get(srv.code, {}), start_at=received, received_at=received,
            dsp_sent_at=times.get("dsp_sent_at"), wan_delivered_at=times.get("wan_delivered_at"),
            device_responded_at=times.get("device_responded_at"), wan_returned_at=times.get("wan_returned_at"),
            responded_at=times.get("responded_at"), completed_at=completed, attempts=1, response={},
            precommand_at=received if srv.critical else None, signed_at=received if srv.critical else None,
            signature="demo" if srv.critical else ""))
        if len(rows) == 10_000:
            with transaction.atomic():
                bulk_insert(ServiceRequest, rows)
            made += len(rows)
            rows = []
    with transaction.atomic():
        bulk_insert(ServiceRequest, rows)
    made += len(rows)
    alerts = []
    for n in range(min(20_000, requests // 10)):
        device = devices[rng.randrange(len(devices))]
        raised = start + dt.timedelta(seconds=rng.random() * seconds)
        wan = raised + dt.timedelta(seconds=rng.lognormvariate(2.3, 0.6))
        alerts.append(Alert(alert_id=f"DEMO-{n:07d}", alert_code=rng.choice(["0x8F3E", "0x8F3F", "0x8F0C", "0x8F35"]),
                            description="Simulated device alert", organisation_id=device[3], device_id=device[0],
                            region=device[4], raised_at=raised, wan_received_at=wan,
                            delivered_at=wan + dt.timedelta(seconds=rng.lognormvariate(0.0, 0.7)), payload={},
                            created_at=wan))
    with transaction.atomic():
        bulk_insert(Alert, alerts)
    if stdout:
        stdout.write(f"adapter: {made:,} requests and {len(alerts):,} alerts from {start:%d %B %Y} to now "
                     f"in {time.monotonic() - began:.1f} s")
